package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func names(shapes []shape) []string {
	var out []string
	for _, sh := range shapes {
		out = append(out, sh.label())
	}
	return out
}

// TestPickKeepsOrderAndRefusesUnknown: -shapes selects in the usual
// order whatever order it names them in, and an unknown name is an error.
func TestPickKeepsOrderAndRefusesUnknown(t *testing.T) {
	all := []shape{{name: "fanout-200"}, {name: "fanout-2000"}, {name: "idle"}}
	got, err := pick(all, "idle, fanout-200")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"fanout-200", "idle"}; !slices.Equal(names(got), want) {
		t.Fatalf("pick = %v, want %v", names(got), want)
	}
	if got, err := pick(all, ""); err != nil || len(got) != 3 {
		t.Fatalf("pick of nothing = %v, %v; want all three", names(got), err)
	}
	if _, err := pick(all, "fanout-200,fanout-20"); err == nil || !strings.Contains(err.Error(), `"fanout-20"`) {
		t.Fatalf("pick of an unknown shape: err = %v, want one naming it", err)
	}
}

// TestRoundsTakeTurns: -rounds repeats each shape, numbered, and the
// builds go first in turn.
func TestRoundsTakeTurns(t *testing.T) {
	got := repeat([]shape{{name: "a"}, {name: "b"}}, 2)
	if want := []string{"a #1", "a #2", "b #1", "b #2"}; !slices.Equal(names(got), want) {
		t.Fatalf("repeat = %v, want %v", names(got), want)
	}
	if got := repeat([]shape{{name: "a"}}, 1); !slices.Equal(names(got), []string{"a"}) {
		t.Fatalf("one round = %v, want [a]", names(got))
	}
	base, head := &stack{nodes: nodes{label: "base"}}, &stack{nodes: nodes{label: "head"}}
	stacks := []cluster{base, head}
	for round, first := range map[int]*stack{0: base, 1: base, 2: head, 3: base} {
		if got := inTurn(stacks, round)[0]; got != cluster(first) {
			t.Errorf("round %d: %s goes first, want %s", round, got.name(), first.label)
		}
	}
	if stacks[0] != base {
		t.Error("inTurn reordered its argument")
	}
}

// TestProfileNodeWritesProfile: profileNode fetches a CPU profile over
// the given time from a node's --pprof-addr (here net/http/pprof in this
// process) and writes it, gzipped as pprof writes it, to the file named.
func TestProfileNodeWritesProfile(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	port, err := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{nodes: nodes{label: "head"}, pprofPorts: []int{port}}
	file := filepath.Join(t.TempDir(), "head-fanout-200-node0.pprof")
	if err := s.profileNode(context.Background(), 0, time.Second, file); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile file starts %q, want a gzipped profile", b[:min(len(b), 16)])
	}
	srv.Close()
	if err := s.profileNode(context.Background(), 0, time.Second, file); err == nil || !strings.Contains(err.Error(), "head node 0") {
		t.Fatalf("profile of a node that is gone: err = %v, want one naming the node", err)
	}
}
