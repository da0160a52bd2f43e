package loadgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/loadgen"
	"github.com/parleychat/parley/shared/testenv"
)

// TestMain fails the run if the tests leave a goroutine behind.
func TestMain(m *testing.M) { testenv.Main(m) }

// benchNode starts a node whose tokens the load generator can sign and
// whose send limit does not get in its way.
func benchNode(t *testing.T) (*testenv.Node, *auth.Keyring) {
	t.Helper()
	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := auth.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	n := testenv.StartNode(t, testenv.NodeConfig{Args: []string{"--jwt-keys", auth.FormatKey(key), "--send-rate", "1000", "--send-burst", "1000", "--user-send-rate", "1000", "--user-send-burst", "1000", "--user-send-bytes", "1e9", "--log-level", "warn"}})
	return n, kr
}

func opts(t *testing.T, n *testenv.Node, kr *auth.Keyring, shape string) loadgen.Options {
	return loadgen.Options{
		Shape: shape, Nodes: []string{n.URL}, PIDs: []int{n.PID()}, Keys: kr,
		Clients: 6, Senders: 2, Rate: 20, Rooms: 2, Duration: time.Second,
		Drain: time.Minute, Connect: time.Minute, Workers: 2, Dials: 4,
		Exe: testenv.ParleyBinary(t),
	}
}

func TestFanoutCountsEveryDeliveryOnce(t *testing.T) {
	t.Parallel()
	n, kr := benchNode(t)
	res, err := loadgen.Run(context.Background(), opts(t, n, kr, loadgen.ShapeFanout))
	if err != nil {
		t.Fatal(err)
	}
	if res.Acked == 0 || res.Acked != res.Sent {
		t.Fatalf("sent %d, acked %d", res.Sent, res.Acked)
	}
	if res.Delivered != res.Acked*6 || res.Lost != 0 || res.Duplicates != 0 || res.OutOfOrder != 0 || res.Expected != res.Delivered {
		t.Fatalf("delivered %d of %d, lost %d, duplicates %d, out of order %d", res.Delivered, res.Expected, res.Lost, res.Duplicates, res.OutOfOrder)
	}
	// Messages are scanned, not decoded: what is decoded in full is the
	// rest (subscribed, presence, acks, pongs).
	if res.FullDecodes >= res.Delivered || res.FramesPerMessage < 1 {
		t.Fatalf("%d of %d frames decoded in full, %.2f frames per message", res.FullDecodes, res.Delivered, res.FramesPerMessage)
	}
	if res.Max <= 0 || res.P50 > res.P99 || res.Nodes[0].CPUSeconds <= 0 || res.HarnessCPU <= 0 {
		t.Fatalf("latency p50 %v p99 %v max %v, node CPU %v, harness CPU %v", res.P50, res.P99, res.Max, res.Nodes[0].CPUSeconds, res.HarnessCPU)
	}
	t.Logf("%d deliveries, %.2f frames per message, %d frames decoded in full", res.Delivered, res.FramesPerMessage, res.FullDecodes)
	if len(res.Failures) > 0 || res.Reconnects != 0 {
		t.Fatalf("failures %v, reconnects %d", res.Failures, res.Reconnects)
	}
}

func TestIdleMeasuresTheNodesMemory(t *testing.T) {
	t.Parallel()
	n, kr := benchNode(t)
	o := opts(t, n, kr, loadgen.ShapeIdle)
	o.Settle = 0
	res, err := loadgen.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Delivered != 0 || res.Senders != 0 || res.Nodes[0].Clients != 6 {
		t.Fatalf("idle run delivered %d with %d senders to %d clients", res.Delivered, res.Senders, res.Nodes[0].Clients)
	}
	if res.Nodes[0].RSSBefore <= 0 || res.Nodes[0].RSSAfter <= 0 || res.RSSPerConnection == 0 {
		t.Fatalf("node memory not read: %+v, per connection %v", res.Nodes[0], res.RSSPerConnection)
	}
}
