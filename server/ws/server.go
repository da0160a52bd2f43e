// Package ws serves Parley's WebSocket endpoint: it authenticates each
// connection from its first frame, turns client frames into store and hub
// calls, and writes hub output through a bounded per-connection queue drained
// by a writer goroutine.
//
// An idle connection has one goroutine, its reader (started by ServeHTTP,
// which then returns), and holds no read or write buffer. The reader waits on the
// socket itself until the client sends something, then hands the read
// and the frame to a short goroutine and waits for it, so its stack stays
// at the 2 KiB minimum: neither coder/websocket's read depth nor a deep
// store or hub call leaves it grown. A writer goroutine runs only while
// frames wait: the push that finds none running starts it, and it returns
// when the queue is empty. It owns every write and the close handshake;
// the deadlines (auth, idle timeout, token expiry) run on a timer that
// kills the connection when one passes.
// Anyone who wants a connection closed asks the writer via kill; nobody else
// calls Close, so no caller ever blocks on a slow peer.
//
// Sends a client wrote without waiting are handled together: the reader
// reads the frames that have already arrived whole and stores a run of
// sends to one room with one membership check, one budget take, one
// store transaction and one publish, answering each as if it had come
// alone (conn.sends).
package ws

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/stages"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"golang.org/x/time/rate"
)

// Config configures a Server.
type Config struct {
	Hub   *hub.Hub
	Store store.Store
	// Verify checks an access token (and that its session has not
	// ended) and says whose it is.
	Verify func(ctx context.Context, token string) (Identity, error)
	// Expired reports whether a Verify error means "expired", Ended
	// whether it means "the session ended", Invalid whether it means
	// "invalid" (default: every error). Any other error is a failure to
	// check (the store is down): the client is asked to come back later.
	Expired func(error) bool
	Ended   func(error) bool
	Invalid func(error) bool
	// OriginPatterns lists extra allowed Origin host patterns; the
	// request's own host is always allowed.
	OriginPatterns []string
	NodeID         string
	Logger         *slog.Logger
	// Stages, when set, times the send path and each write
	// (stages.SendAccess … SendPublish, ConnWrite).
	Stages *stages.Stages

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
	// UserBudget, when set, takes each send (one message of its body's
	// bytes) from its user's budget across every socket (and, with Redis,
	// every node; see server/budget): 0 lets it through, else the send is
	// refused rate_limited with that wait as retry_after.
	UserBudget func(ctx context.Context, user string, bytes int) time.Duration
	// UserBudgetAll, when set, takes several sends of one connection
	// (a batch, see conn.sends) in order, as UserBudget would one by one,
	// in one call: it returns how many it took, up to the first that
	// does not fit, and that one's wait. Without it a batch calls
	// UserBudget per message.
	UserBudgetAll func(ctx context.Context, user string, sizes []int) (taken int, wait time.Duration)
	// UserBudgetReturn, when set, gives back sends that UserBudget or
	// UserBudgetAll took (budget.Budget.Return): with it, a send takes
	// the budget while its membership is checked, and gives it back when
	// the check refuses it; without it, the budget is taken after the
	// check.
	UserBudgetReturn func(ctx context.Context, user string, sizes []int)

	// MaxConnsPerUser bounds one account's open connections on this node
	// (default 20); beyond it a new connection is closed after auth with
	// protocol.CloseTooManyConnections.
	MaxConnsPerUser int
	// MaxConnsPerAddr bounds the open connections from one client address
	// (an IPv6 /64 counts as one address; default 200), and
	// MaxUnauthPerAddr those of them that have not authenticated yet
	// (default 32). Beyond either, the handshake is answered 429.
	MaxConnsPerAddr  int
	MaxUnauthPerAddr int
	// ClientIP names the client of a request (default: the host of
	// RemoteAddr); the node passes its trusted-proxy logic.
	ClientIP func(*http.Request) string

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
	if c.MaxConnsPerUser <= 0 {
		c.MaxConnsPerUser = DefaultMaxConnsPerUser
	}
	if c.MaxConnsPerAddr <= 0 {
		c.MaxConnsPerAddr = DefaultMaxConnsPerAddr
	}
	if c.MaxUnauthPerAddr <= 0 {
		c.MaxUnauthPerAddr = DefaultMaxUnauthPerAddr
	}
	if c.ClientIP == nil {
		c.ClientIP = func(r *http.Request) string {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				return r.RemoteAddr
			}
			return host
		}
	}
	if c.Expired == nil {
		c.Expired = func(error) bool { return false }
	}
	if c.Ended == nil {
		c.Ended = func(error) bool { return false }
	}
	if c.Invalid == nil {
		c.Invalid = func(error) bool { return true }
	}
}

// Identity is what a verified access token says.
type Identity struct {
	User    string
	Session string // the session id (sid); empty for tokens without one
	Expires time.Time
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
	// Open connections per client address key, unauthenticated ones per
	// address key, and authenticated ones per user; guarded by mu.
	perAddr   map[string]int
	unauthed  map[string]int
	perUser   map[string]int
	refusedBy [refusalKinds]int64 // guarded by mu
}

// Defaults of the connection caps.
const (
	DefaultMaxConnsPerUser  = 20
	DefaultMaxConnsPerAddr  = 200
	DefaultMaxUnauthPerAddr = 32
)

// Kinds of refused connections, for Refused.
const (
	RefusedPerAddr = iota
	RefusedUnauthPerAddr
	RefusedPerUser
	refusalKinds
)

// New returns a Server.
func New(cfg Config) *Server {
	cfg.defaults()
	return &Server{
		cfg: cfg, log: cfg.Logger, conns: make(map[*conn]struct{}),
		perAddr: make(map[string]int), unauthed: make(map[string]int), perUser: make(map[string]int),
	}
}

// AddrKey is the key connections from ip are counted under: the address
// itself, or its /64 for IPv6 (one subscriber's network).
func AddrKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// admit counts a new connection from key, or reports which cap refuses it.
func (s *Server) admit(key string) (refused int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.perAddr[key] >= s.cfg.MaxConnsPerAddr:
		s.refusedBy[RefusedPerAddr]++
		return RefusedPerAddr, false
	case s.unauthed[key] >= s.cfg.MaxUnauthPerAddr:
		s.refusedBy[RefusedUnauthPerAddr]++
		return RefusedUnauthPerAddr, false
	}
	s.perAddr[key]++
	s.unauthed[key]++
	return 0, true
}

// authed moves c from its address's unauthenticated count to its user's
// count; false when the user already has MaxConnsPerUser connections.
func (s *Server) authed(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	decr(s.unauthed, c.addrKey)
	c.unauthCounted = false
	if s.perUser[c.user] >= s.cfg.MaxConnsPerUser {
		s.refusedBy[RefusedPerUser]++
		return false
	}
	s.perUser[c.user]++
	c.userCounted = true
	return true
}

// forget uncounts an ended connection.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	decr(s.perAddr, c.addrKey)
	if c.unauthCounted {
		decr(s.unauthed, c.addrKey)
	}
	if c.userCounted {
		decr(s.perUser, c.user)
	}
}

func decr(m map[string]int, k string) {
	if m[k] <= 1 {
		delete(m, k)
		return
	}
	m[k]--
}

// Refused returns how many connections each cap refused (indexed by the
// Refused* kinds).
func (s *Server) Refused() [refusalKinds]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refusedBy
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
	s.mu.Unlock()
	key := AddrKey(s.cfg.ClientIP(r))
	if kind, ok := s.admit(key); !ok {
		msg := "too many connections from your address"
		if kind == RefusedUnauthPerAddr {
			msg = "too many unauthenticated connections from your address"
		}
		w.Header().Set("Retry-After", "5")
		http.Error(w, msg, http.StatusTooManyRequests)
		return
	}
	s.mu.Lock()
	s.wg.Add(1)
	s.mu.Unlock()

	sr := &smallReads{ResponseWriter: w}
	wsc, err := websocket.Accept(sr, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.OriginPatterns})
	if err != nil {
		s.mu.Lock()
		decr(s.perAddr, key)
		decr(s.unauthed, key)
		s.mu.Unlock()
		s.wg.Done()
		s.log.Debug("websocket accept", "remote", r.RemoteAddr, "err", err)
		return
	}
	wsc.SetReadLimit(protocol.MaxFrameBytes)
	c := newConn(s, wsc, r.RemoteAddr)
	c.br, c.raw, c.nc, c.fw = sr.br, sr.raw, sr.nc, sr.fw
	c.addrKey, c.unauthCounted = key, true
	s.mu.Lock()
	s.conns[c] = struct{}{}
	draining := s.draining
	s.mu.Unlock()
	if draining {
		c.kill(protocol.CloseGoingAway, "node is draining")
	}
	// Not r.Context(): net/http cancels it when this handler returns
	// (the connection ends through kill and abort, Drain, instead), and
	// holding it would keep net/http's per-connection contexts alive,
	// about 500 bytes an idle connection; nothing reads a value from it.
	go func() {
		defer s.wg.Done()
		c.serve(context.Background())
		s.forget(c)
	}()
}

// EndSessions closes every connection of sessions ids with
// CloseSessionEnded: they were signed out.
func (s *Server) EndSessions(ids []string) int {
	ended := make(map[string]bool, len(ids))
	for _, id := range ids {
		if id != "" {
			ended[id] = true
		}
	}
	n := 0
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if ended[c.session()] {
			c.endSession()
			n++
		}
	}
	return n
}

// SessionIDs returns the sessions of the open connections, once each.
func (s *Server) SessionIDs() []string {
	seen := make(map[string]bool)
	s.mu.Lock()
	for c := range s.conns {
		if id := c.session(); id != "" {
			seen[id] = true
		}
	}
	s.mu.Unlock()
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	return ids
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

// readBufferSize is the read buffer a WebSocket keeps for its whole life.
// Clients send few and small frames (under protocol.MaxFrameBytes, most
// under 200 bytes), and a payload larger than the buffer is read into
// its destination directly; net/http's 4 KiB per connection would be
// held by every idle one.
const readBufferSize = 512

// smallReads hands coder/websocket a hijacked connection with a
// readBufferSize read buffer and a frameHeadBytes write buffer in front of
// a frameWriter, instead of net/http's 4 KiB ones (which become garbage):
// an idle connection keeps no write buffer, and a frame still leaves in
// one write call. Hijack records the read buffer in br: the reader waits
// on it (conn.waitReadable).
type smallReads struct {
	http.ResponseWriter
	br  *bufio.Reader
	raw syscall.RawConn // the socket's, when it has one
	nc  net.Conn        // the socket
	fw  *frameWriter    // under coder/websocket's write buffer
}

// Hijack implements http.Hijacker.
func (s *smallReads) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijack: the ResponseWriter is not an http.Hijacker")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nc, brw, err
	}
	r := bufio.NewReaderSize(nc, readBufferSize)
	if n := brw.Reader.Buffered(); n > 0 {
		// The client sent before the upgrade answer, or net/http's
		// background read caught its first byte: those bytes are in
		// net/http's 4 KiB buffer, which the connection would keep for
		// good. They move to a buffer of ours, as large as they need, in
		// front of the socket. coder/websocket's Accept then carries what
		// is buffered over into the reader's source, and the first Read
		// (auth, which waits on nothing) takes it back into the buffer
		// at once, where waitReadable sees what is left.
		early, _ := brw.Reader.Peek(n)
		r = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), nc), max(readBufferSize, n))
		if _, err := r.Peek(n); err != nil {
			return nc, nil, fmt.Errorf("hijack: move early bytes: %w", err)
		}
	}
	s.br, s.nc, s.fw = r, nc, &frameWriter{w: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			s.raw = raw
		}
	}
	return nc, bufio.NewReadWriter(r, bufio.NewWriterSize(s.fw, frameHeadBytes)), nil
}
