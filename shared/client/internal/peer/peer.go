//go:build !js

// Package peer is a small in-memory Parley node for the client's own tests:
// a real WebSocket and HTTP endpoint that speaks shared/protocol
// (authenticate, subscribe with backlog replay, idempotent send by
// (user, cid), history, ping, fan-out, sign-up, login, rooms, and the
// node's per-connection token buckets for send frames and for all frames).
// Tests steer it with hooks and inspect the frames it received. It is a
// protocol peer for unit tests of reconnect, backoff, dedupe and pacing
// logic, not the node: integration tests run the real server. It is
// native only, as are the tests that use it: a browser cannot accept
// WebSockets, and app.wasm's coder/websocket (build/wasmpatch) has no
// Accept.
package peer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/parleychat/parley/shared/protocol"
)

// DefaultUser is the user of a WebSocket token that does not name one.
const DefaultUser = "alice"

// Hooks change the peer's behaviour. Set them with Peer.Configure.
type Hooks struct {
	// Heartbeat is the ping interval the welcome frame asks for (ms).
	Heartbeat int64
	// AuthClose: refuse every auth with an error frame and this close code.
	AuthClose protocol.CloseCode
	// AuthEnded: refuse every auth with a session_ended error frame and a
	// normal close (1000), as a browser client sees a close 4502.
	AuthEnded bool
	// Features are the features the peer supports: the welcome confirms
	// those of them the auth frame asked for. The peer does not act on
	// them; OnFrame answers what they bring (watch, say).
	Features []string
	// OnFrame sees every client frame after auth; returning true skips the
	// default answer.
	OnFrame func(*Conn, protocol.Frame) bool
	// SendRate and SendBurst, when set, limit the send frames of each
	// connection like the node does (a token bucket): a send beyond them
	// is answered with a rate_limited error whose retry_after is the time
	// until the next token. The default answer applies it, so a test that
	// handles a send in OnFrame bypasses it.
	SendRate  rate.Limit
	SendBurst int
	// FrameRate and FrameBurst, when set, limit all frames of each
	// connection: beyond them the peer closes it with CloseFlood, like the
	// node.
	FrameRate  rate.Limit
	FrameBurst int
	// AfterWelcome are sent in the welcome's own message, after it, as a
	// node that confirmed protocol.FeatureBatch may.
	AfterWelcome []protocol.Frame
}

// Peer is the node. Create it with New; the test's cleanup closes it.
type Peer struct {
	t   testing.TB
	srv *httptest.Server
	wg  sync.WaitGroup

	mu      sync.Mutex
	hooks   Hooks
	rooms   map[string][]protocol.Message
	created map[string]bool
	byCID   map[string]protocol.Message
	conns   map[*Conn]bool
	got     []protocol.Frame
	tokens  []string
	feats   [][]string
	accepts int
	epoch   int64
	users   map[string]string
	issued  int
	limited int
	floods  int
}

// Conn is one authenticated WebSocket connection on the peer.
type Conn struct {
	p    *Peer
	ws   *websocket.Conn
	user string
	n    int
	// asked: the features of the connection's auth frame.
	asked []string
	wmu   sync.Mutex
	subs  map[string]bool // guarded by Peer.mu

	// sendLim and frameLim are nil when the hooks set no limit; only the
	// connection's handler uses them, and the gate (like the node's).
	sendLim, frameLim *rate.Limiter
	gateCID           string
	gateUntil         time.Time
}

// New starts a peer on a free port; t's cleanup closes it.
func New(t testing.TB) *Peer {
	t.Helper()
	p := &Peer{
		t:       t,
		rooms:   map[string][]protocol.Message{},
		created: map[string]bool{protocol.DefaultRoom: true},
		byCID:   map[string]protocol.Message{},
		conns:   map[*Conn]bool{},
		users:   map[string]string{},
		epoch:   1,
	}
	mux := http.NewServeMux()
	mux.HandleFunc(protocol.PathWS, p.serveWS)
	p.routeAPI(mux)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

// URL is the peer's base URL (http://127.0.0.1:port).
func (p *Peer) URL() string { return p.srv.URL }

// WSURL is the peer's WebSocket endpoint.
func (p *Peer) WSURL() string { return "ws" + strings.TrimPrefix(p.srv.URL, "http") + protocol.PathWS }

// Close stops listening, drops every connection and waits for their
// handlers. It may be called more than once.
func (p *Peer) Close() {
	p.srv.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.ws.CloseNow()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// StopListening refuses new connections and keeps the live ones.
func (p *Peer) StopListening() { p.srv.Listener.Close() }

// Configure changes the hooks under the peer's lock.
func (p *Peer) Configure(fn func(*Hooks)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(&p.hooks)
}

func (p *Peer) serveWS(w http.ResponseWriter, r *http.Request) {
	p.wg.Add(1)
	defer p.wg.Done()
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	c, ok := p.auth(ws)
	if !ok {
		return
	}
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	p.mu.Lock()
	hb, after := p.hooks.Heartbeat, p.hooks.AfterWelcome
	var confirmed []string
	for _, f := range p.hooks.Features {
		if protocol.HasFeature(c.asked, f) {
			confirmed = append(confirmed, f)
		}
	}
	p.mu.Unlock()
	welcome := protocol.Frame{Type: protocol.TypeWelcome, User: c.user, Node: "peer", Heartbeat: hb, Features: confirmed}
	c.SendBatch(append([]protocol.Frame{welcome}, after...)...)
	for {
		_, data, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		f, err := protocol.Decode(data)
		if err != nil {
			continue
		}
		if c.frameLim != nil && !c.frameLim.Allow() {
			p.mu.Lock()
			p.floods++
			p.mu.Unlock()
			_ = ws.Close(websocket.StatusCode(protocol.CloseFlood), "too many frames")
			return
		}
		p.mu.Lock()
		p.got = append(p.got, f)
		hook := p.hooks.OnFrame
		p.mu.Unlock()
		if hook != nil && hook(c, f) {
			continue
		}
		c.Answer(f)
	}
}

// auth reads the auth frame and registers the connection.
func (p *Peer) auth(ws *websocket.Conn) (*Conn, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), protocol.AuthTimeout)
	defer cancel()
	_, data, err := ws.Read(ctx)
	if err != nil {
		return nil, false
	}
	f, err := protocol.Decode(data)
	if err != nil || f.Type != protocol.TypeAuth {
		_ = ws.Close(websocket.StatusCode(protocol.CloseProtocolError), "auth expected")
		return nil, false
	}
	p.mu.Lock()
	p.accepts++
	p.tokens = append(p.tokens, f.Token)
	p.feats = append(p.feats, f.Features)
	c := &Conn{p: p, ws: ws, user: tokenUser(f.Token), n: p.accepts, asked: f.Features, subs: map[string]bool{}}
	if p.hooks.SendRate > 0 {
		c.sendLim = rate.NewLimiter(p.hooks.SendRate, p.hooks.SendBurst)
	}
	if p.hooks.FrameRate > 0 {
		c.frameLim = rate.NewLimiter(p.hooks.FrameRate, p.hooks.FrameBurst)
	}
	refuse, code := p.hooks.AuthClose, protocol.ErrUnauthorized
	if p.hooks.AuthEnded {
		refuse, code = protocol.CloseCode(websocket.StatusNormalClosure), protocol.ErrSessionEnded
	}
	if refuse == 0 {
		p.conns[c] = true
	}
	p.mu.Unlock()
	if refuse != 0 {
		c.Send(protocol.ErrorFrame(code, "", "refused"))
		_ = ws.Close(websocket.StatusCode(refuse), "refused")
		return nil, false
	}
	return c, true
}

// tokenUser reads the user out of an access token the peer issued
// ("access-<user>.<n>"); any other token is DefaultUser's.
func tokenUser(tok string) string {
	rest, ok := strings.CutPrefix(tok, "access-")
	if !ok {
		return DefaultUser
	}
	user, _, _ := strings.Cut(rest, ".")
	return user
}

// N is the connection's accept number, from 1.
func (c *Conn) N() int { return c.n }

// User is the connection's user.
func (c *Conn) User() string { return c.user }

// Send writes f to the connection.
func (c *Conn) Send(f protocol.Frame) {
	b, err := protocol.Encode(f)
	if err != nil {
		c.p.t.Errorf("peer: encode: %v", err)
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageText, b)
}

// SendBatch writes frames as one message, separated by newlines.
func (c *Conn) SendBatch(frames ...protocol.Frame) {
	var msg []byte
	for _, f := range frames {
		b, err := protocol.Encode(f)
		if err != nil {
			c.p.t.Errorf("peer: encode: %v", err)
			return
		}
		msg = protocol.AppendBatch(msg, b)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageText, msg)
}

// Features returns the features each auth frame asked for, in order.
func (p *Peer) Features() [][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]string(nil), p.feats...)
}

// Subscribe marks room as subscribed on c without answering.
func (c *Conn) Subscribe(room string) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	c.subs[room] = true
}

// Answer is the peer's default behaviour for a client frame.
func (c *Conn) Answer(f protocol.Frame) {
	p := c.p
	switch f.Type {
	case protocol.TypeSubscribe, protocol.TypeHistory, protocol.TypeSend:
		if !p.Exists(f.Room) {
			ref := f.Room
			if f.Type == protocol.TypeHistory {
				ref = f.ID
			} else if f.Type == protocol.TypeSend {
				ref = f.CID
			}
			c.Send(protocol.ErrorFrame(protocol.ErrNotFound, ref, "no such room"))
			return
		}
	}
	switch f.Type {
	case protocol.TypeSubscribe:
		c.Subscribe(f.Room)
		msgs := p.Messages(f.Room)
		p.mu.Lock()
		epoch := p.epoch
		p.mu.Unlock()
		c.Send(protocol.Frame{Type: protocol.TypeSubscribed, Room: f.Room, Epoch: epoch, Head: int64(len(msgs)), Since: f.Since})
		// Like the node: since 0 (a new client) or beyond the head (another
		// epoch) starts live; otherwise the newest MaxBacklog after since.
		if f.Since == 0 || f.Since > int64(len(msgs)) {
			return
		}
		from := max(f.Since, int64(len(msgs))-protocol.MaxBacklog)
		for i := from; i < int64(len(msgs)); i++ {
			c.Send(protocol.Frame{Type: protocol.TypeMsg, Msg: &msgs[i]})
		}
	case protocol.TypeUnsubscribe:
		p.mu.Lock()
		delete(c.subs, f.Room)
		p.mu.Unlock()
	case protocol.TypeSend:
		if c.limited(f.CID) {
			return
		}
		m, fresh := p.Store(c.user, f.Room, f.CID, f.Body)
		c.Send(protocol.Frame{Type: protocol.TypeAck, Room: m.Room, CID: m.CID, Offset: m.Offset, TS: m.TS})
		if fresh {
			p.Broadcast(m)
		}
	case protocol.TypeHistory:
		msgs, more := p.Page(f.Room, f.Before, f.Limit)
		c.Send(protocol.Frame{Type: protocol.TypeHistory, ID: f.ID, Room: f.Room, Messages: msgs, More: more})
	case protocol.TypePing:
		c.Send(protocol.Frame{Type: protocol.TypePong, ID: f.ID})
	}
}

// limited answers a send over the connection's send limit with
// rate_limited, as the node does, and reports whether it did. Like the
// node, after refusing a cid it refuses every other send until that cid
// comes again (or the gate lapses, 5 s past retry_after), so a client that
// resends from the refused message keeps its order.
func (c *Conn) limited(cid string) bool {
	if c.sendLim == nil {
		return false
	}
	now := time.Now()
	if c.gateCID != "" {
		if cid != c.gateCID && now.Before(c.gateUntil) {
			retry := time.Duration(0)
			if tokens := c.sendLim.TokensAt(now); tokens < 1 {
				retry = time.Duration((1 - tokens) / float64(c.sendLim.Limit()) * float64(time.Second))
			}
			c.refuse(cid, retry)
			return true
		}
		c.gateCID = ""
	}
	r := c.sendLim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d == 0 {
		return false
	}
	r.CancelAt(now)
	c.gateCID, c.gateUntil = cid, now.Add(d+5*time.Second)
	c.refuse(cid, d)
	return true
}

func (c *Conn) refuse(cid string, retry time.Duration) {
	c.p.mu.Lock()
	c.p.limited++
	c.p.mu.Unlock()
	c.Send(protocol.Frame{
		Type: protocol.TypeError, Code: protocol.ErrRateLimited, Ref: cid,
		Message: "sending too fast", RetryAfter: max(retry.Milliseconds(), 1),
	})
}

// CreateRoom makes room exist (general always does; Store creates the
// rooms it writes to).
func (p *Peer) CreateRoom(room string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.created[room] = true
}

// Exists reports whether room exists.
func (p *Peer) Exists(room string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.created[room]
}

// Store appends a message unless (user, cid) is known; fresh reports a
// new one. It does not fan out.
func (p *Peer) Store(user, room, cid, body string) (m protocol.Message, fresh bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := user + "\x00" + cid
	if m, ok := p.byCID[key]; ok && cid != "" {
		return m, false
	}
	m = protocol.Message{Room: room, Offset: int64(len(p.rooms[room]) + 1), Author: user, Body: body, TS: time.Now().UnixMilli(), CID: cid}
	p.rooms[room] = append(p.rooms[room], m)
	p.created[room] = true
	if cid != "" {
		p.byCID[key] = m
	}
	return m, true
}

// Post stores a message by author and fans it out.
func (p *Peer) Post(room, author, body string) protocol.Message {
	m, _ := p.Store(author, room, "", body)
	p.Broadcast(m)
	return m
}

// Messages returns a copy of room's messages.
func (p *Peer) Messages(room string) []protocol.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]protocol.Message(nil), p.rooms[room]...)
}

// Broadcast sends m to every connection subscribed to its room.
func (p *Peer) Broadcast(m protocol.Message) {
	for _, c := range p.live() {
		p.mu.Lock()
		sub := c.subs[m.Room]
		p.mu.Unlock()
		if sub {
			c.Send(protocol.Frame{Type: protocol.TypeMsg, Msg: &m})
		}
	}
}

// Page returns up to limit messages of room before offset before (0: the
// newest), oldest first, and whether older ones exist.
func (p *Peer) Page(room string, before int64, limit int) ([]protocol.Message, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := p.rooms[room]
	if limit == 0 {
		limit = protocol.HistoryPageDefault
	}
	end := len(all)
	if before > 0 && int(before-1) < end {
		end = int(before - 1)
	}
	start := max(end-limit, 0)
	return append([]protocol.Message(nil), all[start:end]...), start > 0
}

func (p *Peer) live() []*Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Conn, 0, len(p.conns))
	for c := range p.conns {
		out = append(out, c)
	}
	return out
}

// CloseAll closes every live connection with code.
func (p *Peer) CloseAll(code protocol.CloseCode, reason string) {
	for _, c := range p.live() {
		_ = c.ws.Close(websocket.StatusCode(code), reason)
	}
}

// Inject sends f to every live connection.
func (p *Peer) Inject(f protocol.Frame) {
	for _, c := range p.live() {
		c.Send(f)
	}
}

// Accepts counts the connections that sent an auth frame.
func (p *Peer) Accepts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepts
}

// RateLimited counts the sends answered with rate_limited.
func (p *Peer) RateLimited() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limited
}

// Floods counts the connections closed with CloseFlood.
func (p *Peer) Floods() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.floods
}

// Tokens returns the tokens of the auth frames, in order.
func (p *Peer) Tokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.tokens...)
}

// Frames returns the received frames of type typ, in order.
func (p *Peer) Frames(typ string) []protocol.Frame {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []protocol.Frame
	for _, f := range p.got {
		if f.Type == typ {
			out = append(out, f)
		}
	}
	return out
}
