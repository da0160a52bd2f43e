package hub_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// countingSub is a subscriber that only counts what it is sent, as cheap
// as a queue push, so the benchmark measures the hub.
type countingSub struct {
	user string
	n    atomic.Int64
}

func (s *countingSub) User() string                   { return s.user }
func (s *countingSub) Send(frame []byte, _ bool) bool { s.n.Add(1); return true }

// BenchmarkFanout1k: one message, as a broker delivers it, to 1000
// subscribers of one room: route, sequence, hand the same bytes to each.
// An op is one message to all 1000; allocs/op is what delivering it
// allocates. "headed" is what nodes publish (routed by its header, never
// decoded: the target is 0 allocs); "bare" is a frame without the
// header, as older nodes published, decoded to route it.
func BenchmarkFanout1k(b *testing.B) {
	b.Run("headed", func(b *testing.B) { benchFanout(b, true) })
	b.Run("bare", func(b *testing.B) { benchFanout(b, false) })
}

func benchFanout(b *testing.B, header bool) {
	const subs = 1000
	e := newEnv(b, time.Hour)
	ctx := context.Background()
	all := make([]*countingSub, subs)
	for i := range all {
		all[i] = &countingSub{user: fmt.Sprintf("u%04d", i)}
		if err := e.hub.Subscribe(ctx, all[i], "general", 0); err != nil {
			b.Fatal(err)
		}
	}
	last := all[subs-1]
	base := last.n.Load() // subscribed, presence
	payloads := make([][]byte, b.N)
	for i := range payloads {
		frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: &protocol.Message{Room: "general", Offset: int64(i + 1), Author: "ann", Body: "hello " + strconv.Itoa(i), TS: 1}})
		if err != nil {
			b.Fatal(err)
		}
		payloads[i] = frame
		if header {
			payloads[i] = append([]byte("m"+strconv.Itoa(i+1)+"\n"), frame...)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i, p := range payloads {
		e.hub.Deliver("general", p)
		if i%256 == 255 { // keep within the room's inbox
			for last.n.Load() < base+int64(i+1) {
				runtime.Gosched()
			}
		}
	}
	for last.n.Load() < base+int64(b.N) {
		runtime.Gosched()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*subs), "ns/delivery")
}
