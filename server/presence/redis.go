package presence

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleychat/parley/server/certs"
)

// Defaults of RedisOptions.
const (
	DefaultRedisPrefix = "parley:"
	DefaultHeartbeat   = 5 * time.Second
	DefaultTTL         = 15 * time.Second
	DefaultSweep       = 5 * time.Second
)

// scriptChunk caps the keys of one script call, so a node with many rooms
// never blocks Redis for long.
const scriptChunk = 256

// RedisOptions configure a Redis Presence.
type RedisOptions struct {
	// URL is a redis:// or rediss:// URL.
	URL string
	// TLS, with a rediss:// URL, is the CA to trust and the client
	// certificate (certs.ClientConfig); nil: the system roots. The server
	// name comes from the URL and is verified. Set with a redis:// URL it
	// is an error.
	TLS *tls.Config
	// Prefix starts every key (default "parley:"); a room's entries live
	// in the sorted set Prefix+"presence:"+room.
	Prefix string
	// NodeID names this process in the cluster; it must be unique and
	// must not contain NUL. Default: 16 random hex digits.
	NodeID string
	// Heartbeat is how often this node renews its entries (default 5s).
	Heartbeat time.Duration
	// TTL is how long an entry outlives its last renewal (default 15s).
	// It must exceed Heartbeat.
	TTL time.Duration
	// Sweep is how often this node looks for expired entries in the rooms
	// where it has users (default 5s). A crashed node's users vanish from
	// Users within TTL, and Run reports their rooms within TTL + Sweep.
	Sweep time.Duration
	// Logger receives Redis failures (default slog.Default()).
	Logger *slog.Logger
}

// Redis is the cluster-wide Presence. Each node keeps the (room, user)
// entries it joined in memory and in Redis, and renews them every
// Heartbeat with expiry now+TTL (by the Redis server's clock). Users
// lists the unexpired entries of every node. When a node dies without
// leaving, its entries expire; each node's sweep notices the expiry in
// its rooms and reports them to Run's callback, and deletes entries
// expired for more than two sweeps and a TTL.
//
// Writes are desired state: when Redis is unreachable, Join and Leave
// return an error but still change this node's entries, and the next
// heartbeat writes them (a Leave's entry expires by itself). After Redis
// lost its data (a restart), the next heartbeat writes everything again
// and, one heartbeat later, Run reports all this node's rooms, by when
// every live node has rewritten its entries.
type Redis struct {
	client    *redis.Client
	keyPrefix string
	node      string
	heartbeat time.Duration
	ttl       time.Duration
	sweep     time.Duration
	log       *slog.Logger

	// mu guards the fields below and orders writes to Redis: a heartbeat
	// never rewrites an entry that a concurrent Leave has just deleted.
	mu      sync.Mutex
	local   map[string]map[string]struct{} // room → users joined here
	closed  bool
	running bool
	done    chan struct{} // closed by Close
}

var _ Presence = (*Redis)(nil)

// NewRedis returns a Redis Presence. It does not connect: the first call
// that needs Redis does.
func NewRedis(opts RedisOptions) (*Redis, error) {
	if err := fillRedisDefaults(&opts); err != nil {
		return nil, err
	}
	ropt, err := redisClientOptions(opts.URL, opts.TLS)
	if err != nil {
		return nil, err
	}
	return &Redis{
		client:    redis.NewClient(ropt),
		keyPrefix: opts.Prefix + "presence:",
		node:      opts.NodeID,
		heartbeat: opts.Heartbeat,
		ttl:       opts.TTL,
		sweep:     opts.Sweep,
		log:       opts.Logger,
		local:     make(map[string]map[string]struct{}),
		done:      make(chan struct{}),
	}, nil
}

func fillRedisDefaults(o *RedisOptions) error {
	if o.Prefix == "" {
		o.Prefix = DefaultRedisPrefix
	}
	if o.NodeID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.NodeID = hex.EncodeToString(b[:])
	}
	if strings.Contains(o.NodeID, "\x00") {
		return errors.New("redis presence: node ID contains NUL")
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Sweep <= 0 {
		o.Sweep = DefaultSweep
	}
	if o.TTL <= o.Heartbeat {
		return fmt.Errorf("redis presence: TTL %v must exceed heartbeat %v", o.TTL, o.Heartbeat)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// redisClientOptions parses url and sets short timeouts: presence calls
// fail fast rather than hold up the hub.
func redisClientOptions(url string, tlsc *tls.Config) (*redis.Options, error) {
	if url == "" {
		return nil, errors.New("redis presence: empty URL")
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis URL: %w", err)
	}
	if o.TLSConfig, err = certs.ForURL(o.TLSConfig, tlsc); err != nil {
		return nil, fmt.Errorf("redis presence: %w", err)
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 500 * time.Millisecond
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = time.Second
	}
	if !strings.Contains(url, "max_retries=") {
		o.MaxRetries = 1
	}
	o.DialerRetries = 1
	return o, nil
}

// NodeID returns this node's name in the cluster.
func (p *Redis) NodeID() string { return p.node }

func (p *Redis) key(room string) string { return p.keyPrefix + room }

func (p *Redis) member(user string) string { return p.node + "\x00" + user }

// Join records user in room on this node. Joining twice is joining once.
func (p *Redis) Join(ctx context.Context, room, user string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	users := p.local[room]
	if users == nil {
		users = make(map[string]struct{})
		p.local[room] = users
	}
	users[user] = struct{}{}
	if _, err := p.refresh(ctx, map[string][]string{room: {user}}); err != nil {
		return fmt.Errorf("join %s to room %s: %w", user, room, err)
	}
	return nil
}

// Leave removes user's entry for room on this node at once. Leaving
// without having joined does nothing.
func (p *Redis) Leave(ctx context.Context, room, user string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if users := p.local[room]; users != nil {
		delete(users, user)
		if len(users) == 0 {
			delete(p.local, room)
		}
	}
	if err := p.client.ZRem(ctx, p.key(room), p.member(user)).Err(); err != nil {
		return fmt.Errorf("remove %s from room %s: %w", user, room, err)
	}
	return nil
}

// Users returns the users with an unexpired entry in room on any node,
// sorted, without duplicates.
func (p *Redis) Users(ctx context.Context, room string) ([]string, error) {
	members, err := usersScript.Run(ctx, p.client, []string{p.key(room)}).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("list users of room %s: %w", room, err)
	}
	users := make([]string, 0, len(members))
	for _, m := range members {
		if _, user, ok := strings.Cut(m, "\x00"); ok {
			users = append(users, user)
		}
	}
	slices.Sort(users)
	return slices.Compact(users), nil
}

// refresh writes the entries of users (room → users) with expiry
// now+TTL and returns how many were missing. The caller holds mu.
func (p *Redis) refresh(ctx context.Context, entries map[string][]string) (int64, error) {
	rooms := make([]string, 0, len(entries))
	for room := range entries {
		rooms = append(rooms, room)
	}
	var added int64
	for chunk := range slices.Chunk(rooms, scriptChunk) {
		keys := make([]string, len(chunk))
		args := []any{p.ttl.Milliseconds()}
		for i, room := range chunk {
			keys[i] = p.key(room)
			args = append(args, len(entries[room]))
			for _, user := range entries[room] {
				args = append(args, p.member(user))
			}
		}
		n, err := refreshScript.Run(ctx, p.client, keys, args...).Int64()
		if err != nil {
			return added, err
		}
		added += n
	}
	return added, nil
}

// Close deletes this node's entries (best effort, as when the node shuts
// down cleanly), stops Run and closes the connections.
func (p *Redis) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	p.removeAll()
	p.mu.Unlock()
	if err := p.client.Close(); err != nil {
		return fmt.Errorf("close redis client: %w", err)
	}
	return nil
}

// removeAll deletes this node's entries from Redis. The caller holds mu.
func (p *Redis) removeAll() {
	if len(p.local) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	pipe := p.client.Pipeline()
	for room, users := range p.local {
		members := make([]any, 0, len(users))
		for user := range users {
			members = append(members, p.member(user))
		}
		pipe.ZRem(ctx, p.key(room), members...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		p.log.Warn("redis presence: remove entries on close", "err", err)
	}
	p.local = nil
}

// snapshot copies this node's entries. The caller holds mu.
func (p *Redis) snapshot() map[string][]string {
	out := make(map[string][]string, len(p.local))
	for room, users := range p.local {
		list := make([]string, 0, len(users))
		for user := range users {
			list = append(list, user)
		}
		out[room] = list
	}
	return out
}

// rooms lists the rooms where this node has users.
func (p *Redis) rooms() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.local))
	for room := range p.local {
		out = append(out, room)
	}
	slices.Sort(out)
	return out
}
