package ws

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/parleychat/parley/shared/protocol"
	"golang.org/x/time/rate"
)

// conn is one client connection.
type conn struct {
	s      *Server
	ws     *websocket.Conn
	remote string
	q      *queue

	// Set once by the reader before any other goroutine reads it.
	user string
	// addrKey is the client address the connection counts against.
	addrKey string
	// Guarded by Server.mu: whether the connection still counts as
	// unauthenticated for its address, and whether it counts for user.
	unauthCounted bool
	userCounted   bool

	sid      atomic.Pointer[string] // the session of the token last accepted
	authed   atomic.Bool
	batch    atomic.Bool  // the client asked for protocol.FeatureBatch
	deltas   atomic.Bool  // the client asked for protocol.FeaturePresenceDelta
	edits    atomic.Bool  // the client asked for protocol.FeatureEdits
	lastRead atomic.Int64 // unix nanoseconds
	expires  atomic.Int64 // token expiry, unix nanoseconds
	reauthed atomic.Int64 // expiry for which a reauth frame was sent

	killOnce   sync.Once
	killed     chan struct{}
	killCode   protocol.CloseCode
	killReason string
	killLast   []byte // a frame the writer sends just before the close
	aborted    chan struct{}
	abortOnce  sync.Once
	// rearm asks the writer to recompute its timer (after auth or a token
	// refresh changed the deadlines).
	rearm chan struct{}
	// writeTimer cuts the connection when one write takes longer than
	// WriteTimeout: one timer per connection, made at its first write and
	// armed around each, instead of a context and timer per write.
	// Owned by the writer; writeCut is set when it fired.
	writeTimer *time.Timer
	writeCut   atomic.Bool

	// roomsMu guards rooms, the rooms the connection is subscribed to,
	// and removals. The reader adds and drops rooms; a room actor drops
	// one when the user is removed from it (Removed). A leaf lock.
	roomsMu  sync.Mutex
	rooms    map[string]bool
	removals map[string]chan struct{} // closed when the room's Hub.Unsubscribe is done

	// Owned by the reader goroutine.
	held      map[string]bool // rooms whose subscribe failed for now: Hub.Hold
	gate      sendGate        // the last send refused for now
	sendLim   *rate.Limiter
	frameLim  *rate.Limiter
	typingLim map[string]time.Time
}

func newConn(s *Server, wsc *websocket.Conn, remote string) *conn {
	c := &conn{
		s:         s,
		ws:        wsc,
		remote:    remote,
		q:         newQueue(s.cfg.QueueFrames, s.cfg.QueueBytes),
		killed:    make(chan struct{}),
		aborted:   make(chan struct{}),
		rearm:     make(chan struct{}, 1),
		rooms:     make(map[string]bool),
		removals:  make(map[string]chan struct{}),
		held:      make(map[string]bool),
		sendLim:   rate.NewLimiter(s.cfg.SendRate, s.cfg.SendBurst),
		frameLim:  rate.NewLimiter(s.cfg.FrameRate, s.cfg.FrameBurst),
		typingLim: make(map[string]time.Time),
	}
	c.lastRead.Store(c.s.cfg.Now().UnixNano())
	return c
}

// User implements hub.Subscriber.
func (c *conn) User() string { return c.user }

// PresenceDeltas implements hub.DeltaSubscriber.
func (c *conn) PresenceDeltas() bool { return c.deltas.Load() }

// Edits implements hub.EditsSubscriber.
func (c *conn) Edits() bool { return c.edits.Load() }

// Send implements hub.Subscriber.
func (c *conn) Send(frame []byte, droppable bool) bool {
	if c.q.push(frame, droppable) {
		return true
	}
	if !droppable {
		c.kill(protocol.CloseSlowConsumer, "too slow; reconnect and recover")
	}
	return false
}

// kill asks the writer to close the connection with code. The first call
// wins.
func (c *conn) kill(code protocol.CloseCode, reason string) { c.killWith(code, reason, nil) }

// killWith is kill that has the writer send last (an encoded frame) just
// before the close frame, past anything still queued.
func (c *conn) killWith(code protocol.CloseCode, reason string, last []byte) {
	c.killOnce.Do(func() {
		c.killCode, c.killReason, c.killLast = code, reason, last
		c.q.close()
		close(c.killed)
	})
}

// sessionEnded is the error frame sent before CloseSessionEnded.
var sessionEnded = func() []byte {
	b, err := protocol.Encode(protocol.ErrorFrame(protocol.ErrSessionEnded, "", sessionEndedReason))
	if err != nil {
		panic(err) // a constant frame
	}
	return b
}()

const sessionEndedReason = "session ended; sign in again"

// endSession closes the connection because its session ended: an error
// frame session_ended (what a browser client can see), then the close
// CloseSessionEnded.
func (c *conn) endSession() {
	c.killWith(protocol.CloseSessionEnded, sessionEndedReason, sessionEnded)
}

// abort cuts the connection without a close handshake.
func (c *conn) abort() {
	c.abortOnce.Do(func() { close(c.aborted) })
}

// serve runs the connection: the writer in its own goroutine, the reader
// here. It returns when both have stopped and the hub has forgotten it.
func (c *conn) serve(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop(ctx)
	}()
	c.readLoop(ctx)
	cancel()
	<-writerDone
	for _, room := range c.takeRooms() {
		c.s.cfg.Hub.Unsubscribe(c, room)
	}
	c.awaitRemovals()
	for room := range c.held {
		c.s.cfg.Hub.Release(room, c.user)
	}
}

func (c *conn) writeLoop(ctx context.Context) {
	timer := time.NewTimer(c.s.cfg.AuthTimeout)
	defer timer.Stop()
	// A write blocked when the connection is cancelled (the reader ended,
	// the server stops) is cut at once: writes take no context.
	defer context.AfterFunc(ctx, func() { _ = c.ws.CloseNow() })()
	defer func() {
		if c.writeTimer != nil {
			c.writeTimer.Stop()
		}
	}()
	var batch [][]byte
	for {
		select {
		case <-ctx.Done():
			_ = c.ws.CloseNow()
			return
		case <-c.aborted:
			_ = c.ws.CloseNow()
			return
		case <-c.killed:
			if c.killLast != nil {
				if err := c.write(c.killLast); err != nil {
					c.s.log.Debug("websocket write before close", "remote", c.remote, "err", err)
				}
			}
			c.closeWith(c.killCode, c.killReason)
			return
		case <-c.q.ready:
			batch = c.q.take(batch)
			if err := c.writeQueued(batch); err != nil {
				c.s.log.Debug("websocket write", "user", c.user, "err", err)
				_ = c.ws.CloseNow()
				return
			}
			if cap(batch) > idleSlots {
				batch = nil // give back what a burst grew
			}
		case <-c.rearm:
			timer.Reset(c.nextDeadline(c.s.cfg.Now()))
		case <-timer.C:
			now := c.s.cfg.Now()
			if code, reason, stop := c.checkDeadlines(now); stop {
				c.closeWith(code, reason)
				return
			}
			timer.Reset(c.nextDeadline(now))
		}
	}
}

// batchBufs holds the buffers batches are built in, shared by every
// connection: an idle connection holds none.
var batchBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, protocol.MaxBatchBytes)
	return &b
}}

// writeQueued writes the frames taken from the queue and clears them:
// to a client with the batch feature as few messages (and write calls)
// as protocol.MaxBatchBytes allows, else one message per frame.
func (c *conn) writeQueued(frames [][]byte) error {
	if len(frames) == 1 || !c.batch.Load() {
		for i, f := range frames {
			if err := c.write(f); err != nil {
				return err
			}
			frames[i] = nil
		}
		return nil
	}
	buf := batchBufs.Get().(*[]byte)
	b := (*buf)[:0]
	var err error
	for i, f := range frames {
		if len(b) > 0 && len(b)+1+len(f) > protocol.MaxBatchBytes {
			if err = c.write(b); err != nil {
				break
			}
			b = b[:0]
		}
		b = protocol.AppendBatch(b, f)
		frames[i] = nil
	}
	if err == nil && len(b) > 0 {
		err = c.write(b)
	}
	if cap(b) <= 2*protocol.MaxBatchBytes {
		*buf = b[:0]
		batchBufs.Put(buf)
	}
	return err
}

// errWriteTimeout: a write took longer than Config.WriteTimeout.
var errWriteTimeout = errors.New("write timed out")

// write writes one message within WriteTimeout. The context passed to
// coder/websocket has no Done channel, so the library arms nothing per
// write either: the per-connection writeTimer closes the connection if
// the write blocks too long, which makes the write fail.
func (c *conn) write(frame []byte) error {
	if c.writeTimer == nil {
		c.writeTimer = time.AfterFunc(c.s.cfg.WriteTimeout, c.cutWrite)
	} else {
		c.writeTimer.Reset(c.s.cfg.WriteTimeout)
	}
	err := c.ws.Write(context.Background(), websocket.MessageText, frame)
	if !c.writeTimer.Stop() && c.writeCut.Load() {
		return errWriteTimeout
	}
	return err
}

// cutWrite runs when a write outlived WriteTimeout.
func (c *conn) cutWrite() {
	c.writeCut.Store(true)
	_ = c.ws.CloseNow()
}

func (c *conn) closeWith(code protocol.CloseCode, reason string) {
	if err := c.ws.Close(websocket.StatusCode(code), reason); err != nil {
		// Not c.user: a close can race the reader's authentication.
		c.s.log.Debug("websocket close", "remote", c.remote, "code", int(code), "err", err)
	}
}

// checkDeadlines decides whether a timer firing at now ends the connection;
// it also sends the reauth frame ahead of token expiry.
func (c *conn) checkDeadlines(now time.Time) (protocol.CloseCode, string, bool) {
	if !c.authed.Load() {
		return protocol.CloseAuthTimeout, "no auth frame in time", true
	}
	if now.Sub(time.Unix(0, c.lastRead.Load())) >= c.s.cfg.IdleTimeout {
		return protocol.CloseIdle, "idle", true
	}
	exp := c.expires.Load()
	if now.UnixNano() >= exp {
		return protocol.CloseTokenExpired, "token expired", true
	}
	if now.UnixNano() >= exp-int64(c.s.cfg.ReauthBefore) && c.reauthed.Swap(exp) != exp {
		if f, err := protocol.Encode(protocol.Frame{Type: protocol.TypeReauth}); err == nil {
			c.q.push(f, false)
		}
	}
	return 0, "", false
}

// nextDeadline returns how long until the next timer check.
func (c *conn) nextDeadline(now time.Time) time.Duration {
	next := time.Unix(0, c.lastRead.Load()).Add(c.s.cfg.IdleTimeout)
	exp := time.Unix(0, c.expires.Load())
	if reauth := exp.Add(-c.s.cfg.ReauthBefore); c.reauthed.Load() != exp.UnixNano() && reauth.Before(next) {
		next = reauth
	}
	if exp.Before(next) {
		next = exp
	}
	d := next.Sub(now)
	if d < 10*time.Millisecond {
		d = 10 * time.Millisecond
	}
	return d
}

// readLoop authenticates the connection and then handles frames until the
// connection ends.
func (c *conn) readLoop(ctx context.Context) {
	if !c.authenticate(ctx) {
		c.drain(ctx)
		return
	}
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			c.logReadEnd(err)
			return
		}
		c.lastRead.Store(c.s.cfg.Now().UnixNano())
		if !c.frameLim.Allow() {
			c.kill(protocol.CloseFlood, "too many frames")
			c.drain(ctx)
			return
		}
		if typ != websocket.MessageText {
			c.kill(protocol.CloseProtocolError, "binary frames are not supported")
			c.drain(ctx)
			return
		}
		f, err := protocol.Decode(data)
		if err != nil {
			// Not a Parley frame of this version: the client speaks
			// something else and could not read an error frame either.
			c.kill(protocol.CloseProtocolError, closeReason(err))
			c.drain(ctx)
			return
		}
		if err := protocol.ValidateClient(f); err != nil {
			c.reject(f, err)
			continue
		}
		c.handle(ctx, f)
	}
}

// maxCloseReason is the most a WebSocket close reason may hold (125
// bytes of payload less the 2-byte code).
const maxCloseReason = 123

// closeReason is err's message cut to fit a close frame.
func closeReason(err error) string {
	msg := err.Error()
	var de *protocol.DecodeError
	if errors.As(err, &de) {
		msg = de.Msg
	}
	if len(msg) > maxCloseReason {
		msg = strings.ToValidUTF8(msg[:maxCloseReason], "")
	}
	return msg
}

// drain keeps reading after a kill so the close handshake can complete.
func (c *conn) drain(ctx context.Context) {
	for {
		if _, _, err := c.ws.Read(ctx); err != nil {
			return
		}
	}
}

func (c *conn) logReadEnd(err error) {
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		return
	case websocket.StatusMessageTooBig:
		c.s.log.Info("closed connection: frame too large", "user", c.user, "remote", c.remote)
		return
	}
	if !errors.Is(err, context.Canceled) {
		c.s.log.Debug("websocket read", "user", c.user, "err", err)
	}
}

// authenticate reads the first frame, which must be a valid auth frame.
func (c *conn) authenticate(ctx context.Context) bool {
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		c.logReadEnd(err)
		return false
	}
	if typ != websocket.MessageText {
		c.kill(protocol.CloseProtocolError, "binary frames are not supported")
		return false
	}
	f, err := protocol.Decode(data)
	if err != nil || f.Type != protocol.TypeAuth {
		c.kill(protocol.CloseProtocolError, "first frame must be auth")
		return false
	}
	if err := protocol.ValidateClient(f); err != nil {
		c.kill(protocol.CloseUnauthorized, "invalid token")
		return false
	}
	id, err := c.s.cfg.Verify(ctx, f.Token)
	if err != nil {
		c.refuse(err)
		return false
	}
	user, exp := id.User, id.Expires
	c.user = user
	if !c.s.authed(c) {
		c.kill(protocol.CloseTooManyConnections, "too many connections for this account")
		return false
	}
	var features []string
	if protocol.HasFeature(f.Features, protocol.FeatureBatch) {
		c.batch.Store(true)
		features = append(features, protocol.FeatureBatch)
	}
	if protocol.HasFeature(f.Features, protocol.FeaturePresenceDelta) {
		c.deltas.Store(true)
		features = append(features, protocol.FeaturePresenceDelta)
	}
	if protocol.HasFeature(f.Features, protocol.FeatureEdits) {
		c.edits.Store(true)
		features = append(features, protocol.FeatureEdits)
	}
	c.sid.Store(&id.Session)
	c.expires.Store(exp.UnixNano())
	c.lastRead.Store(c.s.cfg.Now().UnixNano())
	c.authed.Store(true)
	c.rearmTimer()
	c.reply(protocol.Frame{Type: protocol.TypeWelcome, User: user, Node: c.s.cfg.NodeID, Heartbeat: protocol.PingInterval.Milliseconds(), Features: features})
	return true
}

// refuse closes the connection for a token Verify refused.
func (c *conn) refuse(err error) {
	switch {
	case c.s.cfg.Expired(err):
		c.kill(protocol.CloseTokenExpired, "token expired")
	case c.s.cfg.Ended(err):
		c.endSession()
	case c.s.cfg.Invalid(err):
		c.s.log.Debug("token refused", "remote", c.remote, "err", err)
		c.kill(protocol.CloseUnauthorized, "invalid token")
	default:
		c.s.log.Warn("cannot check a token now; the client will come back", "remote", c.remote, "err", err)
		c.kill(protocol.CloseGoingAway, "cannot check the token now; reconnect")
	}
}

// session returns the session id of the connection's token.
func (c *conn) session() string {
	if p := c.sid.Load(); p != nil {
		return *p
	}
	return ""
}

func (c *conn) rearmTimer() {
	select {
	case c.rearm <- struct{}{}:
	default:
	}
}

// reply queues a frame for this connection.
func (c *conn) reply(f protocol.Frame) {
	b, err := protocol.Encode(f)
	if err != nil {
		c.s.log.Error("encode reply", "type", f.Type, "err", err)
		return
	}
	c.Send(b, false)
}

func (c *conn) replyError(code, ref, msg string) {
	c.reply(protocol.ErrorFrame(code, ref, msg))
}

// reject answers a frame that failed decoding or validation.
func (c *conn) reject(f protocol.Frame, err error) {
	var de *protocol.DecodeError
	if errors.As(err, &de) {
		c.replyError(de.Code, requestRef(f), de.Msg)
		return
	}
	c.replyError(protocol.ErrBadRequest, requestRef(f), err.Error())
}

// requestRef is what an error about f refers to: its cid, id or room.
func requestRef(f protocol.Frame) string {
	ref := f.Room
	switch {
	case f.CID != "":
		ref = f.CID
	case f.ID != "":
		ref = f.ID
	}
	if len(ref) > protocol.MaxCIDLen {
		return ""
	}
	return ref
}
