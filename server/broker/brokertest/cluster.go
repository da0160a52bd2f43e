package brokertest

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parleychat/parley/server/broker"
)

// Backend is the server behind a cluster's brokers, which failure tests
// stop (as in a crash) and start again. testenv.RedisServer is one.
type Backend interface {
	Stop()
	Start()
}

// RunCluster checks brokers that share a backend: newNode returns a new
// node of the cluster of the calling subtest (every node a subtest
// creates must share one backend and channel namespace).
func RunCluster(t *testing.T, newNode func(t *testing.T) broker.Broker, backend Backend) {
	t.Run("EverySubscribedNodeOnce", func(t *testing.T) { testFanOut(t, newNode) })
	t.Run("SubscribeEffectiveOnReturn", func(t *testing.T) { testClusterEffective(t, newNode) })
	t.Run("UnsubscribeOneNode", func(t *testing.T) { testClusterUnsubscribe(t, newNode) })
	t.Run("BackendRestart", func(t *testing.T) { testBackendRestart(t, newNode, backend) })
}

// testFanOut: A publishes; B and C, subscribed, get every payload exactly
// once and in order; A, not subscribed, gets nothing.
func testFanOut(t *testing.T, newNode func(*testing.T) broker.Broker) {
	const n = 200
	a, b, c := newNode(t), newNode(t), newNode(t)
	ra, rb, rc := Start(t, a), Start(t, b), Start(t, c)
	Subscribe(t, a, "sync")
	Subscribe(t, b, "room", "sync")
	Subscribe(t, c, "room", "sync")
	for i := range n {
		Publish(t, a, "room", []byte(strconv.Itoa(i)))
	}
	Barrier(t, a, "sync", ra, rb, rc)
	checkSequence(t, rb.Payloads("room"), n)
	checkSequence(t, rc.Payloads("room"), n)
	if got := ra.Payloads("room"); len(got) != 0 {
		t.Fatalf("unsubscribed node got %d payloads", len(got))
	}
}

func testClusterEffective(t *testing.T, newNode func(*testing.T) broker.Broker) {
	a, b := newNode(t), newNode(t)
	Start(t, a)
	rb := Start(t, b)
	for i := range 50 {
		room := "r" + strconv.Itoa(i)
		Subscribe(t, b, room)
		Publish(t, a, room, []byte("first"))
	}
	for i := range 50 {
		rb.WaitPayloads(t, "r"+strconv.Itoa(i), 1)
	}
}

// testClusterUnsubscribe: one node leaving a room does not affect another.
func testClusterUnsubscribe(t *testing.T, newNode func(*testing.T) broker.Broker) {
	a, b := newNode(t), newNode(t)
	ra, rb := Start(t, a), Start(t, b)
	Subscribe(t, a, "room", "sync")
	Subscribe(t, b, "room", "sync")
	if err := a.Unsubscribe(context.Background(), "room"); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	Publish(t, a, "room", []byte("x"))
	Barrier(t, b, "sync", ra, rb)
	if got := ra.Payloads("room"); len(got) != 0 {
		t.Fatalf("unsubscribed node got %q", got)
	}
	if got := rb.Payloads("room"); len(got) != 1 {
		t.Fatalf("subscribed node got %q, want [x]", got)
	}
}

// testBackendRestart: the backend crashes and comes back. Publishing
// fails meanwhile instead of hanging; afterwards every node reports its
// subscribed rooms as interrupted and payloads flow again.
func testBackendRestart(t *testing.T, newNode func(*testing.T) broker.Broker, backend Backend) {
	a, b := newNode(t), newNode(t)
	ra, rb := Start(t, a), Start(t, b)
	Subscribe(t, a, "one", "two")
	Subscribe(t, b, "one")
	Publish(t, a, "one", []byte("before"))
	rb.WaitPayloads(t, "one", 1)

	backend.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	start := time.Now()
	if err := a.Publish(ctx, "one", []byte("lost")); err == nil {
		t.Fatal("publish with the backend down succeeded")
	}
	t.Logf("publish with the backend down failed after %v", time.Since(start))
	backend.Start()

	ra.WaitInterrupted(t, "one", "two")
	rb.WaitInterrupted(t, "one")
	for _, got := range append(ra.Interruptions(), rb.Interruptions()...) {
		if !slices.IsSorted(got) {
			t.Fatalf("Interrupted(%v): rooms not sorted", got)
		}
	}
	// Payloads flow again. (A node may legitimately lose one more
	// payload if its connection breaks again while the backend settles,
	// so publish until both nodes have one.)
	deadline := time.Now().Add(waitTimeout)
	for !hasPayload(ra, "one", "after") || !hasPayload(rb, "one", "after") {
		if time.Now().After(deadline) {
			t.Fatalf("no payload after the restart: a got %q, b got %q", ra.Payloads("one"), rb.Payloads("one"))
		}
		_ = a.Publish(context.Background(), "one", []byte("after"))
		time.Sleep(20 * time.Millisecond)
	}
}

func hasPayload(r *Recorder, room, payload string) bool {
	return slices.ContainsFunc(r.Payloads(room), func(p []byte) bool { return string(p) == payload })
}
