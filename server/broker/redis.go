package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleychat/parley/server/certs"
)

// Defaults of RedisOptions.
const (
	DefaultRedisPrefix       = "parley:"
	DefaultPingInterval      = time.Second
	DefaultSubscribeTimeout  = 3 * time.Second
	defaultRedisDialTimeout  = 500 * time.Millisecond
	defaultRedisReadTimeout  = time.Second
	defaultRedisWriteTimeout = time.Second
)

// RedisOptions configure a Redis broker.
type RedisOptions struct {
	// URL is a redis:// or rediss:// URL. Timeouts given in its query
	// (dial_timeout, read_timeout, write_timeout, max_retries) win over
	// the broker's fail-fast defaults (500ms dial, 1s read/write, no
	// retries).
	URL string
	// TLS, with a rediss:// URL, is the CA to trust and the client
	// certificate (certs.ClientConfig); nil: the system roots. The server
	// name comes from the URL and is verified. Set with a redis:// URL it
	// is an error.
	TLS *tls.Config
	// Prefix starts every channel name (default "parley:"); a room's
	// channel is Prefix+"room:"+room.
	Prefix string
	// PingInterval is how often the pub/sub connection is pinged (default
	// 1s). A connection that delivers nothing, not even a pong, for three
	// intervals (plus the dial timeout) is treated as dead and replaced.
	PingInterval time.Duration
	// SubscribeTimeout bounds how long Subscribe waits for Redis to
	// confirm the subscription (default 3s).
	SubscribeTimeout time.Duration
	// Logger receives connection failures (default slog.Default()).
	Logger *slog.Logger
}

// Redis is the Broker of a cluster: every node publishes to and subscribes
// on the same Redis server.
//
// Each node holds exactly one pub/sub connection (one *redis.PubSub),
// which Subscribe and Unsubscribe extend and shrink; Publish is one
// PUBLISH on the shared connection pool. Subscribe returns once Redis has
// confirmed the subscription, so a payload published after Subscribe
// returns is delivered. Run reads the pub/sub connection itself (see Run)
// so that no payload is ever dropped unseen: a lost connection, a silent
// re-subscription or a dead connection is reported to Handler.Interrupted.
type Redis struct {
	client           *redis.Client
	ps               *redis.PubSub
	channelPrefix    string
	pingInterval     time.Duration
	subscribeTimeout time.Duration
	dialTimeout      time.Duration
	log              *slog.Logger

	// mu guards the fields below. It is a leaf lock: the handler
	// (Deliver, Interrupted) is called after it is released.
	mu      sync.RWMutex
	rooms   map[string]*subscription // wanted rooms
	closed  bool
	running bool
	done    chan struct{} // closed by Close

	stats redisCounters
}

// subscription tracks one wanted room until Redis confirms it.
type subscription struct {
	confirmed chan struct{} // closed at the first confirmation
	ok        bool
}

var _ Broker = (*Redis)(nil)

// NewRedis returns a Redis broker. It does not connect: the first
// Publish, Subscribe or Run does.
func NewRedis(opts RedisOptions) (*Redis, error) {
	ropt, err := redisClientOptions(opts.URL, opts.TLS)
	if err != nil {
		return nil, err
	}
	r := &Redis{
		channelPrefix:    opts.Prefix,
		pingInterval:     opts.PingInterval,
		subscribeTimeout: opts.SubscribeTimeout,
		log:              opts.Logger,
		rooms:            make(map[string]*subscription),
		done:             make(chan struct{}),
	}
	if r.channelPrefix == "" {
		r.channelPrefix = DefaultRedisPrefix
	}
	r.channelPrefix += "room:"
	if r.pingInterval <= 0 {
		r.pingInterval = DefaultPingInterval
	}
	if r.subscribeTimeout <= 0 {
		r.subscribeTimeout = DefaultSubscribeTimeout
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.dialTimeout = ropt.DialTimeout
	r.client = redis.NewClient(ropt)
	// Creating the PubSub opens no connection; doing it here rather than
	// in Run lets Subscribe race with Run's start safely.
	r.ps = r.client.Subscribe(context.Background())
	return r, nil
}

// redisClientOptions parses url and fills in fail-fast defaults.
func redisClientOptions(url string, tlsc *tls.Config) (*redis.Options, error) {
	if url == "" {
		return nil, errors.New("redis broker: empty URL")
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis URL: %w", err)
	}
	if o.TLSConfig, err = certs.ForURL(o.TLSConfig, tlsc); err != nil {
		return nil, fmt.Errorf("redis broker: %w", err)
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = defaultRedisDialTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = defaultRedisReadTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = defaultRedisWriteTimeout
	}
	if !strings.Contains(url, "max_retries=") {
		// At-most-once: a PUBLISH whose reply was lost is not repeated.
		o.MaxRetries = -1
	}
	// One dial attempt per call: Publish fails fast, and the receive loop
	// has its own backoff.
	o.DialerRetries = 1
	if o.Protocol == 0 {
		// RESP2 pub/sub: the plain, long-standing path, without RESP3
		// push-notification processing on every message.
		o.Protocol = 2
	}
	return o, nil
}

// Publish sends payload to every node subscribed to room, this one
// included, with one PUBLISH. With Redis unreachable it fails within the
// dial timeout; the caller then delivers locally.
func (r *Redis) Publish(ctx context.Context, room string, payload []byte) error {
	if r.isClosed() {
		return ErrClosed
	}
	if err := r.client.Publish(ctx, r.channelPrefix+room, payload).Err(); err != nil {
		r.stats.publishErrors.Add(1)
		return fmt.Errorf("publish to room %s: %w", room, err)
	}
	r.stats.published.Add(1)
	return nil
}

// PublishAll sends payloads in order with one PUBLISH each, in one
// pipeline (one round trip). On an error some may have gone out; the
// caller delivers them all locally, which the hub de-duplicates.
func (r *Redis) PublishAll(ctx context.Context, room string, payloads [][]byte) error {
	if r.isClosed() {
		return ErrClosed
	}
	channel := r.channelPrefix + room
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, payload := range payloads {
			p.Publish(ctx, channel, payload)
		}
		return nil
	})
	if err != nil {
		r.stats.publishErrors.Add(1)
		return fmt.Errorf("publish %d payloads to room %s: %w", len(payloads), room, err)
	}
	r.stats.published.Add(uint64(len(payloads)))
	return nil
}

// Subscribe starts delivering room and returns once Redis has confirmed
// the subscription (or SubscribeTimeout passed). Subscribing a subscribed
// room does nothing. On error the room is not subscribed.
func (r *Redis) Subscribe(ctx context.Context, room string) error {
	sub, err := r.want(room)
	if err != nil || sub == nil {
		return err
	}
	if err := r.sendSubscribe(ctx, room); err != nil {
		r.rollback(room, sub)
		return err
	}
	if err := r.awaitConfirmation(ctx, sub); err != nil {
		r.rollback(room, sub)
		return fmt.Errorf("subscribe to room %s: %w", room, err)
	}
	return nil
}

// want records room as wanted; it returns nil if it already was.
func (r *Redis) want(room string) (*subscription, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if r.rooms[room] != nil {
		return nil, nil
	}
	sub := &subscription{confirmed: make(chan struct{})}
	r.rooms[room] = sub
	return sub, nil
}

// sendSubscribe sends SUBSCRIBE, retrying once: when the write fails on a
// broken connection, go-redis reconnects and re-subscribes the rooms it
// knew before this call, without this one.
func (r *Redis) sendSubscribe(ctx context.Context, room string) error {
	err := r.ps.Subscribe(ctx, r.channelPrefix+room)
	if err != nil && ctx.Err() == nil && !r.isClosed() {
		err = r.ps.Subscribe(ctx, r.channelPrefix+room)
	}
	if err != nil {
		return fmt.Errorf("subscribe to room %s: %w", room, err)
	}
	return nil
}

func (r *Redis) awaitConfirmation(ctx context.Context, sub *subscription) error {
	timer := time.NewTimer(r.subscribeTimeout)
	defer timer.Stop()
	select {
	case <-sub.confirmed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-r.done:
		return ErrClosed
	case <-timer.C:
		return errors.New("no confirmation from redis (is Run running?)")
	}
}

// rollback forgets a room whose subscription failed.
func (r *Redis) rollback(room string, sub *subscription) {
	r.mu.Lock()
	mine := r.rooms[room] == sub
	if mine {
		delete(r.rooms, room)
	}
	r.mu.Unlock()
	if mine {
		// Also drops the channel from go-redis's re-subscribe list,
		// even if the command cannot be sent.
		_ = r.ps.Unsubscribe(context.Background(), r.channelPrefix+room)
	}
}

// Unsubscribe stops delivering room at once. An error means Redis was not
// told; the room is not delivered anyway and is not re-subscribed after
// a reconnect.
func (r *Redis) Unsubscribe(ctx context.Context, room string) error {
	r.mu.Lock()
	_, ok := r.rooms[room]
	delete(r.rooms, room)
	closed := r.closed
	r.mu.Unlock()
	if !ok || closed {
		return nil
	}
	if err := r.ps.Unsubscribe(ctx, r.channelPrefix+room); err != nil {
		return fmt.Errorf("unsubscribe from room %s: %w", room, err)
	}
	return nil
}

// Close stops Run and releases the pub/sub connection and the pool.
func (r *Redis) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.done)
	r.mu.Unlock()
	_ = r.ps.Close() // already closed if Run has returned
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("close redis client: %w", err)
	}
	return nil
}

func (r *Redis) isClosed() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.closed
}

// subscribedRooms lists the wanted rooms, sorted.
func (r *Redis) subscribedRooms() []string {
	r.mu.RLock()
	rooms := make([]string, 0, len(r.rooms))
	for room := range r.rooms {
		rooms = append(rooms, room)
	}
	r.mu.RUnlock()
	sort.Strings(rooms)
	return rooms
}

// isSubscribed reports whether room is wanted.
func (r *Redis) isSubscribed(room string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.rooms[room] != nil
}

// confirm releases a Subscribe waiting for room.
func (r *Redis) confirm(room string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sub := r.rooms[room]; sub != nil && !sub.ok {
		sub.ok = true
		close(sub.confirmed)
	}
}

// RedisStats counts what a Redis broker did since it was created.
type RedisStats struct {
	Published     uint64 // payloads published
	PublishErrors uint64 // failed Publish calls
	Delivered     uint64 // payloads handed to the handler
	Discarded     uint64 // payloads received for rooms no longer subscribed
	ReceiveErrors uint64 // failed reads of the pub/sub connection (each leads to a reconnect)
	Interruptions uint64 // times delivery resumed after a possible loss
}

type redisCounters struct {
	published, publishErrors, delivered, discarded atomic.Uint64
	receiveErrors, interruptions                   atomic.Uint64
}

// Stats returns the broker's counters.
func (r *Redis) Stats() RedisStats {
	return RedisStats{
		Published:     r.stats.published.Load(),
		PublishErrors: r.stats.publishErrors.Load(),
		Delivered:     r.stats.delivered.Load(),
		Discarded:     r.stats.discarded.Load(),
		ReceiveErrors: r.stats.receiveErrors.Load(),
		Interruptions: r.stats.interruptions.Load(),
	}
}
