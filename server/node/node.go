// Package node wires one Parley node together from its Config: the store
// (SQLite or PostgreSQL), the broker and presence (in-process or Redis), the
// auth service, the hub, the WebSocket server, the HTTP API and the web app,
// and runs them until its context ends, then drains.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/server/ws"
	"github.com/parleychat/parley/shared/protocol"
)

// Node is one running Parley server.
type Node struct {
	cfg      Config
	log      *slog.Logger
	store    store.Store
	broker   broker.Broker
	presence presence.Presence
	hub      *hub.Hub
	ws       *ws.Server
	handler  http.Handler
	ready    atomic.Bool
	closers  []func() error
}

// New opens the node's dependencies. Close releases them if Run is never
// called.
func New(ctx context.Context, cfg Config, log *slog.Logger) (_ *Node, err error) {
	n := &Node{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if err := n.openStore(ctx); err != nil {
		return nil, err
	}
	if err := n.openSync(ctx); err != nil {
		return nil, err
	}
	if _, err := n.store.EnsureRoom(ctx, protocol.DefaultRoom); err != nil {
		return nil, fmt.Errorf("create default room: %w", err)
	}
	n.hub = hub.New(hub.Config{Store: n.store, Broker: n.broker, Presence: n.presence, Logger: log})
	if err := n.buildHTTP(); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Node) openStore(ctx context.Context) error {
	if n.cfg.PostgresURL != "" {
		pg, err := store.OpenPostgres(ctx, n.cfg.PostgresURL, n.cfg.PGMaxConns)
		if err != nil {
			return fmt.Errorf("open postgres: %w", err)
		}
		n.store = pg
		n.closers = append(n.closers, pg.Close)
		n.log.Info("store: postgresql")
		return nil
	}
	if err := os.MkdirAll(n.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(n.cfg.DataDir, "parley.db")
	db, err := store.OpenSQLite(ctx, path)
	if err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	n.store = db
	n.closers = append(n.closers, db.Close)
	n.log.Info("store: sqlite", "path", path)
	return nil
}

func (n *Node) openSync(ctx context.Context) error {
	if n.cfg.RedisURL == "" {
		mb, mp := broker.NewMemory(), presence.NewMemory()
		n.broker, n.presence = mb, mp
		n.closers = append(n.closers, mb.Close, mp.Close)
		return nil
	}
	rb, err := broker.NewRedis(broker.RedisOptions{URL: n.cfg.RedisURL, Logger: n.log})
	if err != nil {
		return fmt.Errorf("open redis broker: %w", err)
	}
	n.broker = rb
	n.closers = append(n.closers, rb.Close)
	// Heartbeat and sweep at a third of the TTL: a crashed node's users
	// vanish within TTL + TTL/3 (20s with the default 15s).
	beat := n.cfg.PresenceTTL / 3
	rp, err := presence.NewRedis(presence.RedisOptions{URL: n.cfg.RedisURL, NodeID: n.cfg.NodeID, TTL: n.cfg.PresenceTTL, Heartbeat: beat, Sweep: beat, Logger: n.log})
	if err != nil {
		return fmt.Errorf("open redis presence: %w", err)
	}
	n.presence = rp
	n.closers = append(n.closers, rp.Close)
	n.log.Info("cluster sync: redis", "node", n.cfg.NodeID)
	return nil
}

// Handler returns the node's HTTP handler (for tests that serve it
// themselves).
func (n *Node) Handler() http.Handler { return n.handler }

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

// Serve is Run on an existing listener.
func (n *Node) Serve(ctx context.Context, ln net.Listener) error {
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan error, 1)
	go func() { hubDone <- n.hub.Run(hubCtx) }()

	srv := &http.Server{
		Handler:           n.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	n.ready.Store(true)
	n.log.Info("serving", "addr", ln.Addr().String(), "node", n.cfg.NodeID)

	var err error
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
