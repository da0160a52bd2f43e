package cluster_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// Seeded fault runs. TestFaults starts three nodes, Redis and a
// PostgreSQL of its own, puts six clients behind a health-checked
// balancer, keeps them all sending into two rooms, and then runs a random
// schedule of faults drawn from a seed: PostgreSQL crashes and fast
// shutdowns (alone, or while a node is killed and restarted, so it starts
// during the outage, or while a node is frozen), node kills, node freezes
// (SIGSTOP), Redis restarts.
// Afterwards every client must hold every message of both rooms exactly
// once and in order, every node must serve the same history, and presence
// must name every client.
//
// make test runs a few steps; make soak runs many. The seed is logged;
// PARLEY_FAULT_SEED=N replays a schedule, PARLEY_FAULT_STEPS=N sets its
// length.
func TestFaults(t *testing.T) {
	seed := envInt(t, "PARLEY_FAULT_SEED", time.Now().UnixNano())
	steps := envInt(t, "PARLEY_FAULT_STEPS", 4)
	t.Logf("fault schedule: seed %d, %d steps (replay with PARLEY_FAULT_SEED=%d)", seed, steps, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))

	c := startCluster(t, options{nodes: 3, ownPostgres: true})
	rooms := []string{"fault-a", "fault-b"}
	names := userNames("fault", 6)
	sessions := signupAll(t, c.baseURLs(), names)
	createRooms(t, c.nodes[0].URL, sessions[0].AccessToken, rooms...)
	lb := startBalancer(t, c.nodes)
	lb.roundRobin()
	var chatters []*chatter
	var loaders []*loader
	for i, name := range names {
		ch := connect(t, lb.wsURL(), name, sessions[i].AccessToken, chatOptions{})
		ch.subscribe(rooms...)
		chatters = append(chatters, ch)
	}
	for i, ch := range chatters {
		loaders = append(loaders, startLoader(t, ch, rooms[i%2], 150*time.Millisecond))
	}
	testenv.Eventually(t, waitTimeout, "load flowing", func() error { return allHave(chatters, rooms[0], 10) })

	f := &faulter{t: t, c: c, rng: rng}
	for step := range steps {
		name := f.step()
		t.Logf("step %d: %s", step+1, name)
		testenv.Eventually(t, waitTimeout, "every node ready after "+name, f.allReady)
	}

	totals := make(map[string]int)
	for i, l := range loaders {
		n, err := l.stop()
		if err != nil {
			t.Fatalf("%s: loader: %v", chatters[i].name, err)
		}
		totals[rooms[i%2]] += n
	}
	for _, room := range rooms {
		checkComplete(t, chatters, room, totals[room], chatters[0])
		checkSameHistory(t, c, room, chatters[0].messages(room))
	}
	everyone := slices.Sorted(slices.Values(names))
	for _, room := range rooms {
		testenv.Eventually(t, waitTimeout, "presence of "+room+" names everyone", func() error { return samePresence(chatters, room, everyone) })
	}
	for _, ch := range chatters {
		ch.checkProblems()
	}
	t.Logf("faults survived: %v messages in %s and %s", []int{totals[rooms[0]], totals[rooms[1]]}, rooms[0], rooms[1])
}

// faulter draws and runs faults.
type faulter struct {
	t   *testing.T
	c   *cluster
	rng *rand.Rand
}

// hold is how long a fault lasts: the schedule, not a wait for anything.
func (f *faulter) hold() {
	d := time.Duration(300+f.rng.IntN(2200)) * time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	<-t.C
}

// step runs one fault drawn from the schedule and returns its name.
func (f *faulter) step() string {
	t := f.t
	switch k := f.rng.IntN(8); k {
	case 0, 1:
		stop, how := f.c.pg.Stop, "crash"
		if k == 1 {
			stop, how = f.c.pg.StopFast, "fast shutdown"
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		f.hold()
		if err := f.c.pg.Start(); err != nil {
			t.Fatal(err)
		}
		return "postgresql " + how
	case 2:
		// A node dies during a database crash and starts again before the
		// database is back: it must wait for it, not exit.
		n := f.node()
		if err := f.c.pg.Stop(); err != nil {
			t.Fatal(err)
		}
		n.Kill()
		var wg sync.WaitGroup
		var restartErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			restartErr = n.Restart()
		}()
		f.hold()
		if err := f.c.pg.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if restartErr != nil {
			t.Fatal(restartErr)
		}
		return "postgresql crash while " + n.ID + " is killed and restarted"
	case 3:
		n := f.node()
		n.Kill()
		f.hold()
		n.Start()
		return n.ID + " killed and restarted"
	case 4:
		n := f.node()
		if err := n.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		f.hold()
		if err := n.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		return n.ID + " frozen"
	case 6:
		// Frozen past the presence TTL: the other nodes drop its users;
		// once it thaws, its heartbeat writes them back and every node
		// must hear of it.
		n := f.node()
		if err := n.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		timer := time.NewTimer(f.c.opts.presenceTTL + 2*time.Second)
		<-timer.C
		if err := n.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		return n.ID + " frozen past the presence TTL"
	case 5:
		// A frozen node thaws while the database is in crash recovery.
		n := f.node()
		if err := n.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		if err := f.c.pg.Stop(); err != nil {
			t.Fatal(err)
		}
		f.hold()
		if err := n.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		if err := f.c.pg.Start(); err != nil {
			t.Fatal(err)
		}
		return n.ID + " frozen through a postgresql crash"
	default:
		f.c.redis.Stop()
		f.hold()
		f.c.redis.Start()
		return "redis restarted"
	}
}

func (f *faulter) node() *node { return f.c.nodes[f.rng.IntN(len(f.c.nodes))] }

func (f *faulter) allReady() error {
	for _, n := range f.c.nodes {
		if code, err := n.Readyz(); err != nil || code != 200 {
			return fmt.Errorf("%s: /readyz %d (%v)", n.ID, code, err)
		}
	}
	return nil
}

// checkSameHistory reads room's history from every node and compares it
// with want.
func checkSameHistory(t *testing.T, c *cluster, room string, want []protocol.Message) {
	t.Helper()
	for _, n := range c.nodes {
		reader := connect(t, n.WSURL(), "reader-"+n.ID, c.token("reader-"+n.ID), chatOptions{})
		reader.waitConnected()
		h, err := reader.fetchHistory(room)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(h, want) {
			t.Errorf("%s serves a different history of %s (%d messages, want %d)", n.ID, room, len(h), len(want))
		}
		reader.disconnect()
	}
}

// envInt reads an integer setting of the fault run.
func envInt(t *testing.T, name string, def int64) int64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}
