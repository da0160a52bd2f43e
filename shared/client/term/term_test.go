//go:build !js

package term

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/client/internal/peer"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// syncBuffer is a bytes.Buffer safe for one writer and polling readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// session is one terminal client run against a peer.
type termRun struct {
	in       *io.PipeWriter
	out, err *syncBuffer
	done     chan error
}

func startTerm(t *testing.T, stdin io.Reader, args ...string) *termRun {
	t.Helper()
	r := &termRun{out: &syncBuffer{}, err: &syncBuffer{}, done: make(chan error, 1)}
	if stdin == nil {
		pr, pw := io.Pipe()
		stdin, r.in = pr, pw
		t.Cleanup(func() { pw.Close() })
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { r.done <- Run(ctx, args, stdin, r.out, r.err) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func (r *termRun) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(r.in, line+"\n"); err != nil {
		t.Fatalf("write stdin: %v", err)
	}
}

func (r *termRun) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(waitTimeout):
		t.Fatalf("Run did not return; stderr:\n%s", r.err.String())
		return nil
	}
}

var chatLine = regexp.MustCompile(`(?m)^\d\d:\d\d (\S+): (.*)$`)

// lines returns the chat lines printed so far as "author: body".
func (r *termRun) lines() []string {
	var out []string
	for _, m := range chatLine.FindAllStringSubmatch(r.out.String(), -1) {
		out = append(out, m[1]+": "+m[2])
	}
	return out
}

func (r *termRun) printed(line string) bool {
	for _, l := range r.lines() {
		if l == line {
			return true
		}
	}
	return false
}

func TestChatLastPageLiveSendJoinQuit(t *testing.T) {
	p := peer.New(t)
	p.AddUser("alice", "password1")
	for i := 1; i <= 60; i++ {
		p.Post("general", "bob", fmt.Sprint("earlier ", i))
	}
	r := startTerm(t, nil, "--url", p.URL(), "--user", "alice", "--password", "password1")
	testenv.Eventually(t, waitTimeout, "last page", testenv.Cond(func() bool { return r.printed("bob: earlier 60") }))
	lines := r.lines()
	if len(lines) != lastPage || lines[0] != "bob: earlier 11" {
		t.Fatalf("printed %d lines starting %q, want the last %d", len(lines), lines[0], lastPage)
	}

	r.send(t, "hello from the terminal")
	testenv.Eventually(t, waitTimeout, "own message echoed", testenv.Cond(func() bool { return r.printed("alice: hello from the terminal") }))
	if msgs := p.Messages("general"); msgs[len(msgs)-1].Body != "hello from the terminal" || msgs[len(msgs)-1].Author != "alice" {
		t.Fatalf("stored %+v", msgs[len(msgs)-1])
	}
	p.Post("general", "bob", "live one")
	testenv.Eventually(t, waitTimeout, "live message", testenv.Cond(func() bool { return r.printed("bob: live one") }))

	r.send(t, "/join random")
	testenv.Eventually(t, waitTimeout, "subscribe to random", testenv.Cond(func() bool {
		for _, f := range p.Frames(protocol.TypeSubscribe) {
			if f.Room == "random" {
				return true
			}
		}
		return false
	}))
	p.Post("general", "bob", "not shown")
	p.Post("random", "carol", "in random")
	testenv.Eventually(t, waitTimeout, "message in the joined room", testenv.Cond(func() bool { return r.printed("carol: in random") }))
	r.send(t, "/quit")
	if err := r.result(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if r.printed("bob: not shown") {
		t.Fatal("message of the left room printed")
	}
	if !strings.Contains(r.err.String(), "connected to peer as alice") {
		t.Fatalf("stderr:\n%s", r.err.String())
	}
}

func TestChatPipedInputSignupAndPasswordPrompt(t *testing.T) {
	p := peer.New(t)
	stdin := strings.NewReader("secret-password\nfirst\nsecond\n")
	r := startTerm(t, stdin, "--url", p.URL(), "--user", "dora", "--signup", "--room", "fresh")
	if err := r.result(t); err != nil {
		t.Fatalf("Run = %v; stderr:\n%s", err, r.err.String())
	}
	msgs := p.Messages("fresh")
	if len(msgs) != 2 || msgs[0].Body != "first" || msgs[1].Body != "second" || msgs[0].Author != "dora" {
		t.Fatalf("stored %+v, want first and second by dora: input end must wait for acks", msgs)
	}
	if !strings.Contains(r.err.String(), "password: ") {
		t.Fatal("no password prompt")
	}
}

func TestChatWrongPassword(t *testing.T) {
	p := peer.New(t)
	p.AddUser("alice", "password1")
	r := startTerm(t, strings.NewReader(""), "--url", p.URL(), "--user", "alice", "--password", "wrong-password")
	var apiErr *client.APIError
	if err := r.result(t); !errors.Is(err, client.ErrUnauthorized) || !errors.As(err, &apiErr) {
		t.Fatalf("Run = %v, want an unauthorized APIError", err)
	}
}

func TestChatRefusedOnSocketEndsRun(t *testing.T) {
	p := peer.New(t)
	p.AddUser("alice", "password1")
	p.Configure(func(h *peer.Hooks) { h.AuthClose = protocol.CloseUnauthorized })
	r := startTerm(t, nil, "--url", p.URL(), "--user", "alice", "--password", "password1")
	if err := r.result(t); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("Run = %v, want ErrUnauthorized", err)
	}
}

func TestChatArgs(t *testing.T) {
	var stderr bytes.Buffer
	cases := map[string][]string{
		"no user":   {"--url", "http://localhost:1"},
		"bad user":  {"--user", "a"},
		"bad room":  {"--user", "alice", "--room", "No Room"},
		"extra arg": {"--user", "alice", "extra"},
		"bad url":   {"--user", "alice", "--password", "password1", "--url", "ftp://x"},
	}
	for name, args := range cases {
		if err := Run(context.Background(), args, strings.NewReader(""), io.Discard, &stderr); err == nil {
			t.Errorf("%s: Run succeeded", name)
		}
	}
	if err := Run(context.Background(), []string{"-h"}, strings.NewReader(""), io.Discard, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	if !strings.Contains(stderr.String(), "usage: parley chat") {
		t.Error("no usage printed")
	}
	if got := origin("https://chat.example.com:8443/x"); got != "https://chat.example.com:8443" {
		t.Errorf("origin = %q", got)
	}
}
