package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// TestStoreOutageLosesNothing: PostgreSQL goes down while a gap is open on
// every node and while clients reconnect and resubscribe. Nodes hold the
// room instead of skipping the gap or resyncing into the outage; clients
// retry their refused subscribes and stay present meanwhile; once the
// database is back every client has every offset once and in order, and
// presence names everyone.
//
// The gap is made, not hoped for: the test stores offsets n+1 and n+2
// itself (no node publishes them), stops PostgreSQL, and only then
// publishes n+2 through Redis, so every node sees n+2 after n and must
// read n+1 from a store that is down. Reconcile is slowed to an hour so
// that only the hold-and-retry path can fill the gap.
func TestStoreOutageLosesNothing(t *testing.T) {
	c := startCluster(t, options{nodes: 2, ownPostgres: true, args: []string{"--reconcile", "1h"}})
	n1, n2 := c.nodes[0], c.nodes[1]
	const room = "outage"
	names := userNames("out", 6)
	sessions := signupAll(t, c.baseURLs(), names)
	createRooms(t, n1.URL, sessions[0].AccessToken, room)
	// A raw connection on each node checks the node's own promise on the
	// wire: dense offsets, never past a gap, no resync into the outage.
	var wires []*wireWatcher
	for i, n := range c.nodes {
		wires = append(wires, rawMember(t, n, c.token(fmt.Sprintf("wire%d", i)), []string{room}))
	}

	// Two users on each node directly, two on node1 through a balancer
	// without health checks, whose connections the test can cut.
	lb := startBalancer(t, []*node{n1})
	lb.noHealthChecks()
	var chatters, cut, direct2 []*chatter
	for i, name := range names {
		url := []string{n1.WSURL(), n2.WSURL(), n1.WSURL(), n2.WSURL(), lb.wsURL(), lb.wsURL()}[i]
		ch := connect(t, url, name, sessions[i].AccessToken, chatOptions{})
		ch.subscribe(room)
		chatters = append(chatters, ch)
		switch {
		case i >= 4:
			cut = append(cut, ch)
		case i%2 == 1:
			direct2 = append(direct2, ch)
		}
	}
	everyone := slices.Sorted(slices.Values(append(slices.Clone(names), "wire0", "wire1")))
	testenv.Eventually(t, waitTimeout, "everyone present", func() error { return samePresence(chatters, room, everyone) })
	for i, ch := range chatters {
		ch.send(room, fmt.Sprintf("before %d", i))
	}
	before := len(chatters)
	testenv.Eventually(t, waitTimeout, "the first messages everywhere", func() error { return allHave(chatters, room, before) })

	// Offsets before+1 and before+2, stored but not published.
	ctx := context.Background()
	st, err := store.OpenPostgres(ctx, c.pgURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var stored []store.Message
	for i := range 2 {
		m, _, err := st.Append(ctx, store.Message{Room: room, Author: names[0], Body: fmt.Sprintf("unpublished %d", i), CID: fmt.Sprintf("unpublished-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, m)
	}
	if err := c.pg.Stop(); err != nil {
		t.Fatal(err)
	}
	raw, err := broker.NewRedis(broker.RedisOptions{URL: c.redis.URL(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Nodes drop payloads without the cluster's MAC: sign like a node.
	keys, err := broker.ParseClusterKeys(testClusterKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := broker.NewSigned(raw, keys, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: hub.ToProtocol(&stored[1])})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, room, frame); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitTimeout, "both nodes fail to fill the gap", func() error {
		for _, n := range c.nodes {
			if v, err := metric(n, "parley_backfill_failures_total"); err != nil || v == 0 {
				return fmt.Errorf("%s: backfill failures %v (%v)", n.ID, v, err)
			}
		}
		return nil
	})

	// While the database is down: connections through the balancer are
	// cut and come back to node1; node2's users leave the room and join
	// again on their live connections. Their subscribes are refused and
	// retried.
	lb.cut()
	for _, ch := range direct2 {
		ch.c.Unsubscribe(room)
		if err := ch.c.Subscribe(room, ch.lastOffset(room)); err != nil {
			t.Fatal(err)
		}
	}
	retrying := append(slices.Clone(cut), direct2...)
	testenv.Eventually(t, waitTimeout, "refused subscribes retried", func() error {
		for _, ch := range retrying {
			if ch.retryCount(room) < 2 {
				return fmt.Errorf("%s: %d room retries", ch.name, ch.retryCount(room))
			}
		}
		return nil
	})
	// The users that still have their subscription see everyone: the
	// retrying ones are connected and trying, so they are present.
	live := []*chatter{chatters[0], chatters[2]}
	testenv.Eventually(t, waitTimeout, "retrying users stay present", func() error { return samePresence(live, room, everyone) })
	for _, ch := range chatters {
		if got := ch.count(room); got != before {
			t.Fatalf("%s has %d messages during the outage, want %d: nothing may pass an unfilled gap", ch.name, got, before)
		}
	}
	for i, w := range wires {
		if got := w.count(room); got != before {
			t.Fatalf("node%d sent %d messages during the outage, want %d (wire problems: %q)", i+1, got, before, w.failures())
		}
	}

	if err := c.pg.Start(); err != nil {
		t.Fatal(err)
	}
	for i, ch := range chatters {
		ch.send(room, fmt.Sprintf("after %d", i))
	}
	total := before + 2 + len(chatters)
	checkComplete(t, chatters, room, total, chatters[0])
	testenv.Eventually(t, waitTimeout, "presence converges", func() error { return samePresence(chatters, room, everyone) })
	for _, ch := range chatters {
		ch.checkProblems()
	}
	testenv.Eventually(t, waitTimeout, "every node sent every message on the wire", func() error {
		for i, w := range wires {
			if got := w.count(room); got != total {
				return fmt.Errorf("node%d sent %d of %d", i+1, got, total)
			}
		}
		return nil
	})
	for i, w := range wires {
		for _, p := range w.failures() {
			t.Errorf("node%d on the wire: %s", i+1, p)
		}
	}
}

// metric reads one unlabelled sample of a node's /metrics.
func metric(n *node, name string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	vals, err := scrapeMetrics(ctx, n.URL)
	if err != nil {
		return 0, err
	}
	v, ok := vals[name]
	if !ok {
		return 0, errors.New(name + " missing")
	}
	return v, nil
}
