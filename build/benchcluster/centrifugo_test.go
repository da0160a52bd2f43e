//go:build centrifugo

package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/testenv"
)

// centrifugoEnv names a Centrifugo v6 binary (make bench-cluster
// PEER=centrifugo builds one into build/.tools). This file builds only
// with the tag centrifugo (make centrifugo-check): building Centrifugo
// takes minutes, too long for CI, so the peer is a benchmark-only path
// and its codec is tested in CI with recorded replies (server/loadgen).
// Asked for, the test fails when the binary is not named.
const centrifugoEnv = "PARLEY_CENTRIFUGO"

// TestCentrifugoPeerDelivers runs a small fan-out against the peer column
// as bench-cluster starts it: two nodes on one Redis, the load generator
// with --target centrifugo. Every acknowledged publication reaches every
// member once, across the two nodes, and the nodes' CPU is read.
func TestCentrifugoPeerDelivers(t *testing.T) {
	bin := os.Getenv(centrifugoEnv)
	if bin == "" {
		t.Fatalf("%s is not set: name a Centrifugo v6 binary (make bench-cluster PEER=centrifugo builds one)", centrifugoEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := newCentrifugo(bin)
	if c != nil {
		defer c.close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := c.restart(ctx); err != nil {
		t.Fatal(err)
	}
	sh := shape{name: "small", args: []string{"--shape", "fanout", "--clients", "8", "--senders", "2", "--rate", "10", "--duration", "1s", "--workers", "1"}}
	r, err := c.runBench(ctx, testenv.ParleyBinary(t), sh, "", c.target()...)
	if err != nil {
		t.Fatal(err)
	}
	if r.Acked == 0 || r.Delivered != r.Acked*8 || r.Lost != 0 || r.Duplicates != 0 || r.OutOfOrder != 0 || r.Errors != 0 {
		t.Fatalf("acked %d, delivered %d (want 8 each), lost %d, dup %d, out of order %d, errors %d",
			r.Acked, r.Delivered, r.Lost, r.Duplicates, r.OutOfOrder, r.Errors)
	}
	if len(r.Nodes) != 2 || r.Nodes[0].Clients != 4 || r.Nodes[1].Clients != 4 || r.ServerCPU <= 0 {
		t.Fatalf("nodes %+v, server CPU %v s: want 4 clients on each of 2 nodes and their CPU", r.Nodes, r.ServerCPU)
	}
}
