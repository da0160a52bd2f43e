package presencetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parleychat/parley/server/presence"
)

var concurrencyTests = []test{
	{"JoinLeave", func(t *testing.T, open Opener) {
		n := started(t, open)
		joinLeaveConcurrently(t, []presence.Presence{n})
	}},
}

// joinLeaveConcurrently runs workers, spread over nodes, that join users
// to a few rooms and leave every other one again, while readers list the
// rooms. Every list a reader sees must be sorted and without duplicates;
// at the end every node lists exactly the users who did not leave. Each
// worker also joins "everyone" to every room, on its own node, at the same
// time as the others: still one entry.
func joinLeaveConcurrently(t *testing.T, nodes []presence.Presence) {
	t.Helper()
	const workers, perWorker = 8, 40
	rooms := []string{"r0", "r1", "r2", "r3"}
	want := make(map[string][]string)
	for _, room := range rooms {
		want[room] = []string{"everyone"}
	}
	for w := range workers {
		for i := 1; i < perWorker; i += 2 {
			room := rooms[i%len(rooms)]
			want[room] = append(want[room], fmt.Sprintf("w%d-u%02d", w, i))
		}
	}

	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 2 {
		p := nodes[r%len(nodes)]
		readers.Go(func() { readUntil(t, p, rooms, stop) })
	}
	var writers sync.WaitGroup
	for w := range workers {
		p := nodes[w%len(nodes)]
		writers.Go(func() {
			ctx := context.Background()
			for i := range perWorker {
				room, user := rooms[i%len(rooms)], fmt.Sprintf("w%d-u%02d", w, i)
				if err := p.Join(ctx, room, user); err != nil {
					t.Errorf("join %s to %s: %v", user, room, err)
					return
				}
				if err := p.Join(ctx, rooms[(w+i)%len(rooms)], "everyone"); err != nil {
					t.Errorf("join everyone: %v", err)
					return
				}
				if i%2 == 0 {
					if err := p.Leave(ctx, room, user); err != nil {
						t.Errorf("leave %s from %s: %v", user, room, err)
						return
					}
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, p := range nodes {
		for _, room := range rooms {
			WantUsers(t, p, room, slices.Sorted(slices.Values(want[room]))...)
		}
	}
}

// readUntil lists rooms on p over and over until stop is closed, at least
// once, and reports any list that is not sorted or has duplicates.
func readUntil(t *testing.T, p presence.Presence, rooms []string, stop <-chan struct{}) {
	for {
		for _, room := range rooms {
			got, err := p.Users(context.Background(), room)
			if err != nil {
				t.Errorf("users of %s: %v", room, err)
				return
			}
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("users of %s = %q: not sorted or duplicated", room, got)
				return
			}
		}
		select {
		case <-stop:
			return
		default:
		}
	}
}
