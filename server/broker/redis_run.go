package broker

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Reconnect backoff of the receive loop.
const (
	minReceiveBackoff = 50 * time.Millisecond
	maxReceiveBackoff = 2 * time.Second
)

// errRunning is returned by a second call of Run.
var errRunning = errors.New("broker already running")

// Run reads the pub/sub connection and delivers to h until ctx is
// cancelled or Close is called; when it returns, the pub/sub connection
// is closed for good (Publish keeps working until Close).
//
// Run reads with PubSub.Receive in its own loop instead of go-redis's
// Channel or ChannelWithSubscriptions: those hand messages to a buffered
// channel from a goroutine that drops a message once the channel has been
// full for a while, logs read errors instead of returning them, and keeps
// going. Reading directly, nothing is ever dropped (a slow handler slows
// the reads, and Redis's own output-buffer limit then cuts the
// connection, which is seen as an error), and every gap is visible:
//
//   - a read error: go-redis reconnects and re-subscribes on the next
//     read; the first successful read after that reports Interrupted;
//   - a subscription confirmed twice: go-redis reconnected silently (a
//     Subscribe or Ping found the connection broken); Interrupted;
//   - nothing at all read for three ping intervals (plus the dial
//     timeout, as a read may first redial), although a goroutine
//     pings every interval: the connection is dead without having said
//     so; the read deadline expires, go-redis drops the connection and
//     the next read reconnects; Interrupted once it works again.
//
// Interrupted gets every subscribed room, sorted. Failing reads back off
// from 50ms to 2s so a Redis that is down costs nothing.
func (r *Redis) Run(ctx context.Context, h Handler) error {
	if err := r.startRunning(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.keepAlive(ctx)
	}()
	r.receive(ctx, h)
	cancel()
	wg.Wait()
	return nil
}

func (r *Redis) startRunning() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.running {
		return errRunning
	}
	r.running = true
	return nil
}

// keepAlive pings the pub/sub connection every interval, and closes it
// when ctx is cancelled so that a blocked read returns.
func (r *Redis) keepAlive(ctx context.Context) {
	defer r.ps.Close()
	ticker := time.NewTicker(r.pingInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.done:
			return
		case <-ticker.C:
			// No deadline on ctx: a deadline that expired while Ping waited
			// for the PubSub's lock (held by a reconnecting read) would fail
			// the write and make go-redis drop a healthy connection. The
			// write has the client's WriteTimeout. An error means the
			// connection is broken or Redis is down; the receive loop sees
			// it too.
			_ = r.ps.Ping(ctx)
		}
	}
}

// receiveState is owned by the receive loop.
type receiveState struct {
	broken    bool                // a read failed since the last good one
	confirmed map[string]struct{} // channels Redis confirmed on this connection
	backoff   time.Duration
}

func (r *Redis) receive(ctx context.Context, h Handler) {
	st := &receiveState{confirmed: make(map[string]struct{})}
	// A read may first have to redial (within the dial timeout).
	readTimeout := 3*r.pingInterval + r.dialTimeout
	for {
		// With a zero timeout go-redis takes the read deadline from the
		// context and, unlike a timeout argument, treats its expiry as a
		// broken connection: it closes it and the next read redials.
		rctx, cancel := context.WithTimeout(ctx, readTimeout)
		msg, err := r.ps.ReceiveTimeout(rctx, 0)
		cancel()
		if err != nil {
			if r.stopping(ctx) {
				return
			}
			r.readFailed(st, err)
			if !r.sleep(ctx, st.backoff) {
				return
			}
			continue
		}
		r.handle(h, st, msg)
	}
}

// readFailed records a failed read and grows the backoff.
func (r *Redis) readFailed(st *receiveState, err error) {
	r.stats.receiveErrors.Add(1)
	if !st.broken {
		r.log.Warn("redis broker: pub/sub connection lost; reconnecting", "err", err)
	}
	st.broken = true
	switch {
	case st.backoff == 0:
		st.backoff = minReceiveBackoff
	case st.backoff < maxReceiveBackoff:
		st.backoff = min(2*st.backoff, maxReceiveBackoff)
	}
}

// handle processes one reply of the pub/sub connection.
func (r *Redis) handle(h Handler, st *receiveState, msg any) {
	if st.broken {
		// The first good read after a failure: go-redis has redialled and
		// re-subscribed every room before reading.
		st.broken = false
		st.backoff = 0
		clear(st.confirmed)
		r.log.Info("redis broker: pub/sub connection restored")
		r.interrupted(h)
	}
	switch m := msg.(type) {
	case *redis.Message:
		r.deliver(h, m)
	case *redis.Subscription:
		r.subscription(h, st, m)
	case *redis.Pong:
	}
}

func (r *Redis) deliver(h Handler, m *redis.Message) {
	room, ok := strings.CutPrefix(m.Channel, r.channelPrefix)
	if !ok || !r.isSubscribed(room) {
		r.stats.discarded.Add(1)
		return
	}
	r.stats.delivered.Add(1)
	h.Deliver(room, []byte(m.Payload))
}

func (r *Redis) subscription(h Handler, st *receiveState, m *redis.Subscription) {
	room, ok := strings.CutPrefix(m.Channel, r.channelPrefix)
	if !ok {
		return
	}
	switch m.Kind {
	case "subscribe":
		if _, dup := st.confirmed[m.Channel]; dup {
			// Re-subscribed without a failed read: go-redis reconnected
			// on another goroutine's behalf. Later confirmations of the
			// same re-subscription are new again.
			clear(st.confirmed)
			r.interrupted(h)
		}
		st.confirmed[m.Channel] = struct{}{}
		r.confirm(room)
	case "unsubscribe":
		delete(st.confirmed, m.Channel)
	}
}

// interrupted tells h that payloads of the subscribed rooms may be lost.
func (r *Redis) interrupted(h Handler) {
	r.stats.interruptions.Add(1)
	if rooms := r.subscribedRooms(); len(rooms) > 0 {
		h.Interrupted(rooms)
	}
}

// stopping reports whether Run should return.
func (r *Redis) stopping(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// sleep waits d with ±20% jitter; false means Run should return.
func (r *Redis) sleep(ctx context.Context, d time.Duration) bool {
	d += time.Duration((rand.Float64()*0.4 - 0.2) * float64(d))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-r.done:
		return false
	}
}
