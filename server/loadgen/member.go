package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley/shared/client"
)

func (w *worker) newMember(cs ClientSpec, hc *http.Client) *member {
	m := &member{spec: cs, subscribed: make(chan struct{})}
	tok := cs.Token
	m.c = client.New(client.Config{
		URL:        cs.URL,
		Token:      func(context.Context) (string, error) { return tok, nil },
		OnEvent:    func(ev client.Event) { w.event(m, ev) },
		HTTPClient: hc,
		Origin:     strings.Replace(strings.TrimSuffix(cs.URL, "/ws"), "ws://", "http://", 1),
		OutboxSize: 10000,
		SendQueue:  1024,
	})
	_ = m.c.Subscribe(cs.Room, 0)
	return m
}

// event runs on m's client goroutine.
func (w *worker) event(m *member, ev client.Event) {
	switch ev.Kind {
	case client.EventSubscribed:
		m.subOnce.Do(func() { close(m.subscribed) })
	case client.EventMessage:
		w.delivered(m, ev, time.Now())
	case client.EventAck:
		m.acked.Add(1)
	case client.EventDisconnected:
		if !errors.Is(ev.Err, context.Canceled) {
			m.reconnects.Add(1)
		}
	case client.EventError, client.EventGap:
		m.errs.Add(1)
	}
}

// delivered counts one message: once per offset, with its latency from
// the send time its body carries.
func (w *worker) delivered(m *member, ev client.Event, now time.Time) {
	body := ev.Msg.Body
	if !strings.HasPrefix(body, w.prefix) {
		return
	}
	sent, ok := sendTime(body[len(w.prefix):])
	if !ok {
		m.errs.Add(1)
		return
	}
	word, bit := ev.Offset/64, uint64(1)<<(ev.Offset%64)
	for int64(len(m.seen)) <= word {
		m.seen = append(m.seen, 0)
	}
	if m.seen[word]&bit != 0 {
		m.dups.Add(1)
		return
	}
	m.seen[word] |= bit
	m.lat.Record(now.Sub(sent))
	ns := now.UnixNano()
	m.first.CompareAndSwap(0, ns)
	m.last.Store(ns)
	m.got.Add(1)
}

// body is "RUN SENDER SEQ SENDNANOS " padded to bodyBytes.
func body(run string, sender int, seq int64, sent time.Time) string {
	b := fmt.Sprintf("%s %d %d %d ", run, sender, seq, sent.UnixNano())
	if len(b) < bodyBytes {
		b += strings.Repeat(".", bodyBytes-len(b))
	}
	return b
}

// sendTime parses the send time from a body without its run prefix.
func sendTime(rest string) (time.Time, bool) {
	f := strings.SplitN(rest, " ", 4)
	if len(f) < 4 {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// send runs every sender of this worker for spec.Duration, then waits
// (at most spec.Drain) until their outboxes are empty.
func (w *worker) send(ctx context.Context) {
	var senders []*member
	for _, m := range w.ms {
		if m.spec.Sender {
			senders = append(senders, m)
		}
	}
	if len(senders) == 0 || w.spec.Rate <= 0 {
		return
	}
	end := time.Now().Add(w.spec.Duration)
	done := make(chan struct{})
	for _, m := range senders {
		go func() {
			defer func() { done <- struct{}{} }()
			w.pace(ctx, m, end)
		}()
	}
	for range senders {
		<-done
	}
	deadline := time.Now().Add(w.spec.Drain)
	for _, m := range senders {
		for len(m.c.Pending()) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// pace sends from m at spec.Rate until end; the first send is offset by
// a fraction of the interval so senders do not all fire together.
func (w *worker) pace(ctx context.Context, m *member, end time.Time) {
	every := time.Duration(float64(time.Second) / w.spec.Rate)
	next := time.Now().Add(every * time.Duration(m.spec.Index%16) / 16)
	for seq := int64(1); ; seq++ {
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		now := time.Now()
		if !now.Before(end) {
			return
		}
		w.sent.Add(1)
		if _, err := m.c.Send(m.spec.Room, body(w.spec.Run, m.spec.Index, seq, now)); err != nil {
			w.refuse.Add(1)
		}
		next = next.Add(every)
	}
}

func (w *worker) acked() int64 {
	var n int64
	for _, m := range w.ms {
		n += m.acked.Load()
	}
	return n
}

// await waits until every member has n deliveries, at most spec.Drain.
func (w *worker) await(ctx context.Context, n int64) {
	deadline := time.Now().Add(w.spec.Drain)
	for _, m := range w.ms {
		for m.got.Load() < n && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// result sums what the members saw; every client has stopped.
func (w *worker) result(expect int64) WorkerResult {
	res := WorkerResult{Sent: w.sent.Load(), Refused: w.refuse.Load(), Connections: len(w.ms)}
	for _, m := range w.ms {
		got := m.got.Load()
		res.Acked += m.acked.Load()
		res.Delivered += got
		res.Duplicates += m.dups.Load()
		res.Short += max(0, expect-got)
		res.Reconnects += m.reconnects.Load()
		res.Errors += m.errs.Load()
		if f := m.first.Load(); f != 0 && (res.FirstNanos == 0 || f < res.FirstNanos) {
			res.FirstNanos = f
		}
		res.LastNanos = max(res.LastNanos, m.last.Load())
		res.Latency.Merge(m.lat)
	}
	return res
}
