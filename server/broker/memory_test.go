package broker_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/broker/brokertest"
)

func TestMemory(t *testing.T) {
	brokertest.Run(t, func(*testing.T) broker.Broker { return broker.NewMemory() })
}

// counter is a Handler that counts deliveries.
type counter struct{ n atomic.Int64 }

func (c *counter) Deliver(string, []byte) { c.n.Add(1) }
func (c *counter) Interrupted([]string)   {}

func BenchmarkMemoryPublish(b *testing.B) {
	m := broker.NewMemory()
	h := &counter{}
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background(), h) }()
	ctx := context.Background()
	if err := m.Subscribe(ctx, "room"); err != nil {
		b.Fatal(err)
	}
	// Wait until Run has installed the handler.
	for h.n.Load() == 0 {
		if err := m.Publish(ctx, "room", []byte("warm")); err != nil {
			b.Fatal(err)
		}
	}
	payload := make([]byte, 200)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if err := m.Publish(ctx, "room", payload); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	_ = m.Close()
	<-done
}
