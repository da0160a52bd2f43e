// Package node wires one Parley node together from its Config: the store
// (SQLite or PostgreSQL), the broker and presence (in-process or Redis), the
// auth service, the hub, the WebSocket server, the HTTP API and the web app,
// and runs them until its context ends, then drains.
package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/budget"
	"github.com/parleychat/parley/server/certs"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/stages"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/server/ws"
	"github.com/parleychat/parley/shared/protocol"
)

// Node is one running Parley server.
type Node struct {
	cfg      Config
	log      *slog.Logger
	keys     *auth.Keyring
	store    store.Store
	broker   broker.Broker
	presence presence.Presence
	budget   budget.Budget  // every user's send budget
	backoff  budget.Backoff // every account's failed logins
	hub      *hub.Hub
	stages   *stages.Stages // per-stage latency histograms (metrics)
	ws       *ws.Server
	auth     *auth.Service
	sessions *sessionEvents
	// redisTLS is the CA and client certificate for a rediss:// --redis
	// (nil: the system roots, or no TLS).
	redisTLS *tls.Config
	// root serves every request: the starting handler until the store
	// answers, then the full mux. metrics serves /metrics (503 until the
	// node is built).
	root    switchHandler
	metrics switchHandler
	ready   atomic.Bool
	closers []func() error
}

// New checks what can be checked without the network (flags, the JWT
// keys) and returns a Node; Run or Serve opens the store and the rest.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Node, error) {
	n := &Node{cfg: cfg, log: log}
	keys, err := n.keyring()
	if err != nil {
		return nil, err
	}
	n.keys = keys
	if n.redisTLS, err = certs.ClientConfig(cfg.RedisCA, cfg.RedisCert, cfg.RedisKey); err != nil {
		return nil, fmt.Errorf("redis TLS: %w", err)
	}
	n.root.set(http.HandlerFunc(n.starting))
	n.metrics.set(http.HandlerFunc(n.starting))
	return n, nil
}

// open opens the store (waiting for it, see openStore), the broker and
// presence, and builds the hub and the HTTP handlers.
func (n *Node) open(ctx context.Context) error {
	if err := n.openStore(ctx); err != nil {
		return err
	}
	n.store = store.WithTimeout(n.store, n.cfg.StoreTimeout)
	if err := n.openSync(ctx); err != nil {
		return err
	}
	if err := n.openSessionEvents(); err != nil {
		return err
	}
	n.stages = stages.New()
	n.hub = hub.New(hub.Config{Stages: n.stages, Store: n.store, Broker: n.broker, Presence: n.presence, Logger: n.log, Reconcile: n.cfg.Reconcile, ReconcileIdle: n.cfg.ReconcileIdle, Coalesce: offIfZero(n.cfg.Coalesce), CoalesceMax: offIfZero(n.cfg.CoalesceMax), GapWait: offIfZero(n.cfg.GapWait)})
	return n.buildHTTP()
}

// openStore opens SQLite, or PostgreSQL and creates the default room. A
// PostgreSQL that does not answer is waited for, with backoff, for up to
// --store-wait: a node may start before its database, or during an outage.
// SQLite errors are not waited for (they do not go away by themselves).
func (n *Node) openStore(ctx context.Context) error {
	if n.cfg.PostgresURL == "" {
		return n.openSQLite(ctx)
	}
	start := time.Now()
	for attempt := 0; ; attempt++ {
		err := n.openPostgres(ctx)
		if err == nil {
			if attempt > 0 {
				n.log.Info("store: postgresql answers", "waited", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		waited := time.Since(start)
		if waited >= n.cfg.StoreWait || ctx.Err() != nil {
			return fmt.Errorf("postgres did not answer within --store-wait (waited %v): %w", waited.Round(time.Millisecond), err)
		}
		d := storeRetry(attempt)
		n.log.Warn("store: postgresql does not answer yet; waiting", "retry_in", d.Round(time.Millisecond), "waited", waited.Round(time.Second), "give_up_after", n.cfg.StoreWait, "err", err)
		t := time.NewTimer(min(d, n.cfg.StoreWait-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("open postgres: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// storeRetry is the wait before the next attempt to open the store:
// 200 ms doubling up to 5 s.
func storeRetry(attempt int) time.Duration {
	return min(200*time.Millisecond<<min(attempt, 5), 5*time.Second)
}

func (n *Node) openPostgres(ctx context.Context) error {
	pg, err := store.OpenPostgres(ctx, n.cfg.PostgresURL, n.cfg.PGMaxConns)
	if err != nil {
		return err
	}
	if _, err := pg.EnsureRoom(ctx, protocol.DefaultRoom); err != nil {
		pg.Close()
		return fmt.Errorf("create default room: %w", err)
	}
	n.store = pg
	n.closers = append(n.closers, pg.Close)
	n.log.Info("store: postgresql")
	return nil
}

func (n *Node) openSQLite(ctx context.Context) error {
	if err := os.MkdirAll(n.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(n.cfg.DataDir, "parley.db")
	if err := privateFiles(n.cfg.DataDir, path); err != nil {
		return err
	}
	db, err := store.OpenSQLite(ctx, path)
	if err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	n.store = db
	n.closers = append(n.closers, db.Close)
	if _, err := db.EnsureRoom(ctx, protocol.DefaultRoom); err != nil {
		return fmt.Errorf("create default room: %w", err)
	}
	n.log.Info("store: sqlite", "path", path)
	return nil
}

func (n *Node) openSync(ctx context.Context) error {
	if n.cfg.RedisURL == "" {
		mb, mp := broker.NewMemory(), presence.NewMemory()
		n.broker, n.presence = mb, mp
		n.budget = budget.NewMemory(n.cfg.UserSend, nil)
		n.backoff = budget.NewMemoryBackoff(n.cfg.LoginBackoff, nil)
		n.closers = append(n.closers, mb.Close, mp.Close)
		return nil
	}
	tlsc := n.redisTLS
	ropts := budget.RedisOptions{URL: n.cfg.RedisURL, TLS: tlsc, Limits: n.cfg.UserSend, Policy: n.cfg.LoginBackoff, Logger: n.log}
	rbud, err := budget.NewRedis(ropts)
	if err != nil {
		return fmt.Errorf("open redis send budget: %w", err)
	}
	n.budget = rbud
	n.closers = append(n.closers, rbud.Close)
	rback, err := budget.NewRedisBackoff(ropts)
	if err != nil {
		return fmt.Errorf("open redis login backoff: %w", err)
	}
	n.backoff = rback
	n.closers = append(n.closers, rback.Close)
	rb, err := broker.NewRedis(broker.RedisOptions{URL: n.cfg.RedisURL, TLS: tlsc, Logger: n.log})
	if err != nil {
		return fmt.Errorf("open redis broker: %w", err)
	}
	n.closers = append(n.closers, rb.Close)
	if n.broker, err = broker.NewSigned(rb, n.cfg.ClusterKeys, n.log); err != nil {
		return fmt.Errorf("cluster key: %w", err)
	}
	// Heartbeat and sweep at a third of the TTL: a crashed node's users
	// vanish within TTL + TTL/3 (20s with the default 15s).
	beat := n.cfg.PresenceTTL / 3
	rp, err := presence.NewRedis(presence.RedisOptions{URL: n.cfg.RedisURL, TLS: tlsc, NodeID: n.cfg.NodeID, TTL: n.cfg.PresenceTTL, Heartbeat: beat, Sweep: beat, Logger: n.log})
	if err != nil {
		return fmt.Errorf("open redis presence: %w", err)
	}
	n.presence = rp
	n.closers = append(n.closers, rp.Close)
	n.log.Info("cluster sync: redis", "node", n.cfg.NodeID)
	return nil
}

// privateFiles makes the data directory 0700 and the database and its WAL
// files 0600, whether they exist already or not: the database holds
// password hashes and refresh-token hashes. SQLite creates the -wal and
// -shm files with the database file's mode, so creating that one 0600
// first is enough for new ones.
func privateFiles(dir, db string) error {
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("make data dir private: %w", err)
	}
	f, err := os.OpenFile(db, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("make %s private: %w", filepath.Base(p), err)
		}
	}
	return nil
}

// Handler returns the node's HTTP handler (for tests that serve it
// themselves).
func (n *Node) Handler() http.Handler { return n.harden(&n.root) }

// Ready reports whether the node accepts new clients.
func (n *Node) Ready() bool { return n.ready.Load() }

// Run serves on the configured address until ctx is cancelled, then drains
// (see Drain) and returns.
func (n *Node) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", n.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", n.cfg.Addr, err)
	}
	return n.Serve(ctx, ln)
}

// Serve is Run on an existing listener. It answers HTTP at once: while
// the store is being opened (and waited for), /healthz says alive,
// /readyz 503 and everything else 503 with Retry-After. Once the store
// answers it serves everything and /readyz turns 200. If the store cannot
// be opened within --store-wait, Serve returns the error.
func (n *Node) Serve(ctx context.Context, ln net.Listener) error {
	sides, err := n.listenSides()
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer n.serveSides(sides)()
	srv := &http.Server{
		Handler:           n.harden(&n.root),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    n.cfg.MaxHeaderBytes,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	n.log.Info("listening", "addr", ln.Addr().String(), "node", n.cfg.NodeID)

	if err := n.open(ctx); err != nil {
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutCtx)
		<-serveErr
		n.Close()
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan error, 1)
	go func() { hubDone <- n.hub.Run(hubCtx) }()
	sessDone := make(chan error, 1)
	go func() { sessDone <- n.sessions.run(hubCtx) }()
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		sweep(hubCtx, n.auth, n.cfg.SessionSweep, n)
	}()
	// Starting made garbage the node never needs again: the argon2 dummy
	// hash (64 MiB of working memory) and the check of the precompressed
	// app (a 16 MiB brotli window). Collect it and give the memory back
	// now, or an idle node would hold it until its heap grew that far.
	if n.cfg.GCPercent > 0 {
		defer startGCPolicy(n.cfg.GCPercent).stop()
	}
	debug.FreeOSMemory()
	n.ready.Store(true)
	n.log.Info("serving", "addr", ln.Addr().String(), "node", n.cfg.NodeID)

	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serve http: %w", err)
	}
	n.drain(srv)
	stopHub()
	if herr := <-hubDone; herr != nil && err == nil {
		err = herr
	}
	if serr := <-sessDone; serr != nil && err == nil {
		err = serr
	}
	<-sweepDone
	n.Close()
	return err
}

// drain turns /readyz unready, waits DrainDelay so load balancers notice,
// asks every client to reconnect elsewhere, waits up to DrainTimeout for
// them to leave, then shuts the HTTP server down.
func (n *Node) drain(srv *http.Server) {
	n.ready.Store(false)
	n.log.Info("draining", "delay", n.cfg.DrainDelay, "timeout", n.cfg.DrainTimeout, "clients", n.ws.Count())
	time.Sleep(n.cfg.DrainDelay)
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.DrainTimeout)
	defer cancel()
	if err := n.ws.Drain(ctx); err != nil {
		n.log.Warn("drain cut remaining clients", "err", err)
	}
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		n.log.Warn("http shutdown", "err", err)
	}
	n.log.Info("drained")
}

// Close releases the store, broker and presence.
func (n *Node) Close() {
	for i := len(n.closers) - 1; i >= 0; i-- {
		if err := n.closers[i](); err != nil {
			n.log.Warn("close", "err", err)
		}
	}
	n.closers = nil
}

// offIfZero is hub.Config.Coalesce, CoalesceMax or GapWait for
// --coalesce, --coalesce-max or --gap-wait: 0 turns it off (the hub
// reads 0 as its default).
func offIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
