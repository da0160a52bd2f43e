// Package ws serves Parley's WebSocket endpoint: it authenticates each
// connection from its first frame, turns client frames into store and hub
// calls, and writes hub output through a bounded per-connection queue drained
// by one writer goroutine.
//
// Each connection has exactly two goroutines: the reader (started by
// ServeHTTP, which then returns) and the writer, which owns every write, the
// close handshake and the connection's timers (auth deadline, idle timeout,
// token expiry).
// Anyone who wants a connection closed asks the writer via kill; nobody else
// calls Close, so no caller ever blocks on a slow peer.
package ws

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"golang.org/x/time/rate"
)

// Config configures a Server.
type Config struct {
	Hub   *hub.Hub
	Store store.Store
	// Verify checks an access token and returns its user and expiry.
	Verify func(token string) (user string, expires time.Time, err error)
	// Expired reports whether a Verify error means "expired" rather than
	// "invalid".
	Expired func(error) bool
	// OriginPatterns lists extra allowed Origin host patterns; the
	// request's own host is always allowed.
	OriginPatterns []string
	NodeID         string
	Logger         *slog.Logger

	AuthTimeout time.Duration // default protocol.AuthTimeout
	IdleTimeout time.Duration // default protocol.IdleTimeout
	// ReauthBefore is how long before expiry a reauth frame is sent
	// (default 60s).
	ReauthBefore time.Duration
	WriteTimeout time.Duration // per frame, default 10s

	QueueFrames int // default 2*protocol.MaxBacklog
	QueueBytes  int // default 4 MiB

	// SendRate/SendBurst limit send frames per connection; FrameRate /
	// FrameBurst limit all frames (beyond them the connection is closed
	// with CloseFlood).
	SendRate   rate.Limit
	SendBurst  int
	FrameRate  rate.Limit
	FrameBurst int

	// Now is the clock that deadlines (auth, idle, token expiry) and the
	// typing throttle are measured with; default time.Now. The writer's
	// timers still wait real time: unit tests call the deadline logic with
	// a settable clock, and run the writer under testing/synctest.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = protocol.AuthTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = protocol.IdleTimeout
	}
	if c.ReauthBefore <= 0 {
		c.ReauthBefore = time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.QueueFrames <= 0 {
		c.QueueFrames = 2 * protocol.MaxBacklog
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = 4 << 20
	}
	if c.SendRate == 0 {
		c.SendRate, c.SendBurst = 20, 40
	}
	if c.FrameRate == 0 {
		c.FrameRate, c.FrameBurst = 100, 200
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Expired == nil {
		c.Expired = func(error) bool { return false }
	}
}

// Server is the /ws handler. It tracks its connections itself, because
// http.Server.Shutdown does not wait for hijacked ones.
type Server struct {
	cfg Config
	log *slog.Logger

	// mu guards conns and draining. Lock order: Server.mu → queue.mu
	// (Drain kills connections, which closes their queues, under mu).
	mu       sync.Mutex
	conns    map[*conn]struct{}
	draining bool
	wg       sync.WaitGroup
}

// New returns a Server.
func New(cfg Config) *Server {
	cfg.defaults()
	return &Server{cfg: cfg, log: cfg.Logger, conns: make(map[*conn]struct{})}
}

// ServeHTTP upgrades the request and hands the connection to a goroutine
// of its own, tracked by the Server. The handler returns at once, so the
// HTTP server's per-connection state (its goroutine with a stack grown by
// the handshake, the request, the response) is freed: about 12 KB less per
// idle connection than reading on the handler's goroutine.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "node is draining", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()

	wsc, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.OriginPatterns})
	if err != nil {
		s.wg.Done()
		s.log.Debug("websocket accept", "remote", r.RemoteAddr, "err", err)
		return
	}
	wsc.SetReadLimit(protocol.MaxFrameBytes)
	c := newConn(s, wsc, r.RemoteAddr)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	draining := s.draining
	s.mu.Unlock()
	if draining {
		c.kill(protocol.CloseGoingAway, "node is draining")
	}
	// net/http cancels r.Context() when this handler returns; the
	// connection ends through kill and abort (Drain) instead.
	ctx := context.WithoutCancel(r.Context())
	go func() {
		defer s.wg.Done()
		c.serve(ctx)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
}

// Count returns the number of open connections.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Drain refuses new connections, asks every client to reconnect elsewhere
// (CloseGoingAway; clients spread their reconnects over
// protocol.DrainJitterSeconds) and waits until every connection has ended or
// ctx is done, in which case the rest are cut.
func (s *Server) Drain(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	for c := range s.conns {
		c.kill(protocol.CloseGoingAway, "node is draining; reconnect")
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.abort()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}
