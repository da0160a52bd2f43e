package ws

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/parleychat/parley/server/stages"
	"github.com/parleychat/parley/shared/protocol"
	"golang.org/x/time/rate"
)

// conn is one client connection.
type conn struct {
	s  *Server
	ws *websocket.Conn
	// br is the read buffer under ws (see smallReads); the reader waits
	// for data on it. Nil when the Server did not make it (tests).
	br *bufio.Reader
	// raw is the socket under br, which the reader waits on; nil when
	// it has none (net.Pipe in tests): the reader then waits in Read.
	raw syscall.RawConn
	// nc is the socket br reads from, once its early bytes are read:
	// br's buffer is dropped while the reader waits on the socket
	// (brIdle) and made again from nc when it wakes (readBuffer).
	nc net.Conn
	// fw is the writer under coder/websocket's write buffer, which the
	// connection's messages are written to directly (frameWriter); nil
	// when the Server did not make it (tests): they go through ws.Write.
	fw *frameWriter
	// brMu orders the reader's look at br (waitReadable) with the close
	// handshake's reads of it (closeWith), and guards brIdle: br has no
	// buffer (and no source) while set. A leaf lock.
	brMu   sync.Mutex
	brIdle bool
	remote string
	q      *queue
	// sendRead is when the reader read the first frame of the sends it
	// is handling (stages); owned by the reader, zero once used.
	sendRead int64

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
	reacts   atomic.Bool  // the client asked for protocol.FeatureReactions
	changes  atomic.Bool  // the client asked for protocol.FeatureRoomEvents
	watchOK  atomic.Bool  // the client asked for protocol.FeatureWatch
	lastRead atomic.Int64 // unix nanoseconds
	expires  atomic.Int64 // token expiry, unix nanoseconds
	reauthed atomic.Int64 // expiry for which a reauth frame was sent

	// writeFn is c.writeRun, made once: `go c.writeFn()` starts a
	// writer without allocating, where `go c.writeRun()` allocates a
	// closure for each burst.
	writeFn func()

	killOnce   sync.Once
	killed     chan struct{}
	killCode   protocol.CloseCode
	killReason string
	killLast   []byte // a frame the writer sends just before the close

	// deadlineMu guards deadline and deadlineOff; a leaf lock. deadline
	// fires at the next auth, idle, reauth or expiry deadline and runs
	// onDeadline: a timer, not a goroutine, so an idle connection has
	// only its reader.
	deadlineMu  sync.Mutex
	deadline    *time.Timer
	deadlineOff bool // the connection ended: never re-arm
	// writeTimer cuts the connection when one write takes longer than
	// WriteTimeout: one timer per connection, made at its first write and
	// armed around each, instead of a context and timer per write.
	// Used by the writer (one at a time); writeCut is set when it fired.
	writeTimer *time.Timer
	writeCut   atomic.Bool

	// roomsMu guards rooms, the rooms the connection is subscribed to,
	// removals, watches and unwatches. The reader adds and drops rooms
	// and watches; a room actor drops one when the user is removed from
	// it (Removed). A leaf lock. The maps here and below are nil until
	// their first entry (putIn): most connections never hold a removal,
	// a watch, a held room or a typing stamp, and an empty map costs 48
	// bytes or more each.
	roomsMu   sync.Mutex
	rooms     map[string]bool
	removals  map[string]chan struct{} // closed when the room's Hub.Unsubscribe is done
	watches   map[string]*watcher      // the rooms the connection watches
	unwatches []chan struct{}          // closed when a removed watch's Hub.Unwatch is done

	// Owned by the reader goroutine.
	held      map[string]bool // rooms whose subscribe failed for now: Hub.Hold
	gate      sendGate        // the last send refused for now
	sendLim   *rate.Limiter
	frameLim  *rate.Limiter
	typingLim map[string]time.Time
}

func newConn(s *Server, wsc *websocket.Conn, remote string) *conn {
	c := &conn{
		s:        s,
		ws:       wsc,
		remote:   remote,
		q:        newQueue(s.cfg.QueueFrames, s.cfg.QueueBytes, s.cfg.Stages),
		killed:   make(chan struct{}),
		sendLim:  rate.NewLimiter(s.cfg.SendRate, s.cfg.SendBurst),
		frameLim: rate.NewLimiter(s.cfg.FrameRate, s.cfg.FrameBurst),
	}
	c.writeFn = c.writeRun
	c.lastRead.Store(c.s.cfg.Now().UnixNano())
	return c
}

// User implements hub.Subscriber.
func (c *conn) User() string { return c.user }

// PresenceDeltas implements hub.DeltaSubscriber.
func (c *conn) PresenceDeltas() bool { return c.deltas.Load() }

// Edits implements hub.EditsSubscriber.
func (c *conn) Edits() bool { return c.edits.Load() }

// Reactions implements hub.ReactionsSubscriber.
func (c *conn) Reactions() bool { return c.reacts.Load() }

// RoomEvents implements hub.RoomEventsSubscriber.
func (c *conn) RoomEvents() bool { return c.changes.Load() }

// Send implements hub.Subscriber.
func (c *conn) Send(frame []byte, droppable bool) bool {
	if c.push(frame, droppable) {
		return true
	}
	if !droppable {
		c.kill(protocol.CloseSlowConsumer, "too slow; reconnect and recover")
	}
	return false
}

// SendAll implements hub.BatchSubscriber: the frames are queued at once,
// so the writer takes them together (one message with the batch feature,
// one write).
func (c *conn) SendAll(frames [][]byte) bool {
	ok, wake := c.q.pushAll(frames)
	if wake {
		go c.writeFn()
	}
	if !ok {
		c.kill(protocol.CloseSlowConsumer, "too slow; reconnect and recover")
	}
	return ok
}

// push queues a frame and starts a writer if none runs.
func (c *conn) push(frame []byte, droppable bool) bool {
	ok, wake := c.q.push(frame, droppable)
	if wake {
		go c.writeFn()
	}
	return ok
}

// kill asks the writer to close the connection with code. The first call
// wins.
func (c *conn) kill(code protocol.CloseCode, reason string) { c.killWith(code, reason, nil) }

// killWith is kill that has the writer send last (an encoded frame) just
// before the close frame, past anything still queued.
func (c *conn) killWith(code protocol.CloseCode, reason string, last []byte) {
	c.killOnce.Do(func() {
		c.killCode, c.killReason, c.killLast = code, reason, last
		close(c.killed)
		if c.q.close(true) {
			go c.writeFn()
		}
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

// abort cuts the connection without a close handshake. CloseNow does
// not wait for the peer, so anyone may call it; it also ends a write or
// close handshake in progress.
func (c *conn) abort() { _ = c.ws.CloseNow() }

// serve runs the connection: the reader here, a writer goroutine whenever
// frames wait (writeRun), and the deadline timer. It returns when the
// reader and any writer have stopped and the hub has forgotten it.
//
// ctx is never done (the connection ends through kill and abort), so a
// blocked Read arms nothing on it.
func (c *conn) serve(ctx context.Context) {
	c.deadlineMu.Lock()
	c.deadline = time.AfterFunc(c.s.cfg.AuthTimeout, c.onDeadline)
	c.deadlineMu.Unlock()
	if c.q.start() {
		go c.writeFn()
	}
	c.readLoop(ctx)
	c.stopDeadline()
	c.q.close(false)
	// A write blocked now (the reader ended, the server stops) is cut at
	// once: writes take no context.
	_ = c.ws.CloseNow()
	c.q.wait()
	if c.writeTimer != nil {
		c.writeTimer.Stop()
	}
	for _, room := range c.takeRooms() {
		c.s.cfg.Hub.Unsubscribe(c, room)
	}
	c.awaitRemovals()
	c.endWatches()
	for room := range c.held {
		c.s.cfg.Hub.Release(room, c.user)
	}
}

// writeRun is the connection's writer: it runs while frames wait, writes
// everything queued at once (writeQueued), and returns when the queue is
// empty; the next push starts another. After a kill it writes the kill's
// last frame, if any, and closes the connection with the kill's code
// instead, skipping what is still queued. Only one runs at a time (the
// queue's writing flag), so writes never interleave.
func (c *conn) writeRun() {
	defer c.q.writers.Done()
	box := slots.Get().(*[][]byte)
	batch := (*box)[:0]
	defer func() {
		clear(batch) // a failed write leaves frames in it
		if cap(batch) <= idleSlots {
			*box = batch[:0]
		}
		slots.Put(box)
	}()
	for {
		select {
		case <-c.killed:
			c.closeKilled()
			return
		default:
		}
		var open bool
		var since int64
		batch, since, open = c.q.next(batch)
		if !open {
			select {
			case <-c.killed:
				c.closeKilled()
			default: // the reader ended; serve cuts the connection
			}
			return
		}
		if len(batch) == 0 {
			return // the queue is empty; the next push starts a writer
		}
		if err := c.writeQueued(batch); err != nil {
			c.s.log.Debug("websocket write", "user", c.user, "err", err)
			c.q.close(false)
			_ = c.ws.CloseNow()
			return
		}
		c.s.cfg.Stages.Observe(stages.ConnWrite, since)
		if cap(batch) > idleSlots {
			batch = (*box)[:0] // give back what a burst grew
		}
	}
}

// closeKilled sends the kill's last frame, if any, then closes the
// connection with the kill's code and reason.
func (c *conn) closeKilled() {
	if c.killLast != nil {
		if err := c.write(c.killLast); err != nil {
			c.s.log.Debug("websocket write before close", "remote", c.remote, "err", err)
		}
	}
	c.closeWith(c.killCode, c.killReason)
}

// onDeadline runs when the deadline timer fires: it ends the connection
// whose deadline passed (through kill), else sends a due reauth and arms
// the timer for the next deadline.
func (c *conn) onDeadline() {
	now := c.s.cfg.Now()
	if code, reason, stop := c.checkDeadlines(now); stop {
		c.kill(code, reason)
		return
	}
	c.armDeadline(now)
}

// armDeadline sets the deadline timer to the next deadline after now,
// computed under deadlineMu so that a concurrent re-arm cannot leave it
// at a stale (later) one.
func (c *conn) armDeadline(now time.Time) {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	if c.deadline == nil || c.deadlineOff {
		return
	}
	c.deadline.Reset(c.nextDeadline(now))
}

// stopDeadline stops the deadline timer for good.
func (c *conn) stopDeadline() {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	c.deadlineOff = true
	if c.deadline != nil {
		c.deadline.Stop()
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

// write writes one message within WriteTimeout: straight to the socket
// through the frameWriter (one writev, none of coder/websocket's write
// locks), or through coder/websocket when there is none, with a context
// that has no Done channel, so the library arms nothing per write either.
// The per-connection writeTimer closes the connection if the write blocks
// too long, which makes the write fail.
func (c *conn) write(frame []byte) error {
	if c.writeTimer == nil {
		c.writeTimer = time.AfterFunc(c.s.cfg.WriteTimeout, c.cutWrite)
	} else {
		c.writeTimer.Reset(c.s.cfg.WriteTimeout)
	}
	var err error
	if c.fw != nil {
		err = c.fw.writeText(frame)
	} else {
		err = c.ws.Write(context.Background(), websocket.MessageText, frame)
	}
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
	c.brMu.Lock()
	c.readBuffer()
	err := c.ws.Close(websocket.StatusCode(code), reason)
	c.brMu.Unlock()
	if err != nil {
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
			c.push(f, false)
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
	var ok bool
	onFreshStack(func() { ok = c.authenticate(ctx) })
	if !ok {
		c.drain(ctx)
		return
	}
	for {
		c.waitReadable()
		var end readEnd
		onFreshStack(func() { end = c.readFrame(ctx) })
		switch end {
		case readFailed:
			return
		case readKilled:
			c.drain(ctx)
			return
		}
	}
}

// readEnd is what reading and handling one frame came to.
type readEnd int

const (
	readOn     readEnd = iota // go on reading
	readFailed                // the connection ended
	readKilled                // the frame killed the connection: drain
)

// waitReadable blocks until the client has sent something (or the
// connection ended), without reading it: the reader spends a
// connection's idle life here, waiting on the socket itself
// (waitSocket), not at the bottom of coder/websocket's Read, whose
// frames kept every idle reader's stack at 4 KiB or more; Go shrinks an
// idle stack at collections to what it uses. It returns at once when
// the read buffer still holds bytes, and on any error: the Read that
// follows reports it.
//
// It reads the buffer's length under brMu, which closeWith holds across
// coder/websocket's close handshake, the one other reader of the buffer
// outside Read.
//
// While it waits, the connection holds no read buffer: br is emptied
// (its 512 bytes become garbage) and gets a new buffer when the frame is
// read (readFrame, on its fresh stack: an allocation the memory profiler
// samples walks a deep stack), or when closeWith needs it first.
func (c *conn) waitReadable() {
	if c.br == nil || c.raw == nil {
		return
	}
	c.brMu.Lock()
	buffered := c.br.Buffered()
	if buffered == 0 && c.nc != nil {
		*c.br = bufio.Reader{}
		c.brIdle = true
	}
	c.brMu.Unlock()
	if buffered == 0 {
		waitSocket(c.raw)
	}
}

// readBuffer gives br a buffer again, reading from the socket, if
// waitReadable took it; called with brMu held. Every byte before was
// read (the buffer was empty, and early bytes are read by the first
// Read), so the socket is all the source br needs.
func (c *conn) readBuffer() {
	if c.brIdle {
		*c.br = *bufio.NewReaderSize(c.nc, readBufferSize)
		c.brIdle = false
	}
}

// Bounds of the sends one readFrame gathers into a batch (sendBatch).
const (
	maxSendBatch      = 16
	maxSendBatchBytes = 64 << 10
)

// sendBatch holds send frames to one room the reader read back to back,
// not yet handled: the reader reads every frame the client has already
// sent (frameReady), up to maxSendBatch frames, and handles a run of
// sends together (conn.sends: one membership check, one budget take, one
// store transaction, one publish). Anything else the client sent
// handles the run first, so frames keep their order.
type sendBatch struct {
	frames []protocol.Frame
	bytes  int
	read   int64 // when its first frame was read (a stages stamp)
}

// readFrame reads one message and handles it, and then every further
// message the client has already sent (up to maxSendBatch), so that its
// sends are handled together; it runs on a fresh stack.
func (c *conn) readFrame(ctx context.Context) readEnd {
	c.brMu.Lock()
	c.readBuffer()
	c.brMu.Unlock()
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		c.logReadEnd(err)
		return readFailed
	}
	c.lastRead.Store(c.s.cfg.Now().UnixNano())
	var b sendBatch
	ok := c.frame(ctx, typ, data, &b)
	for n := 1; ok && len(b.frames) > 0 && n < maxSendBatch && c.frameReady(); n++ {
		if typ, data, err = c.ws.Read(ctx); err != nil {
			c.flushSends(ctx, &b)
			c.logReadEnd(err)
			return readFailed
		}
		c.lastRead.Store(c.s.cfg.Now().UnixNano())
		ok = c.frame(ctx, typ, data, &b)
	}
	c.flushSends(ctx, &b)
	if !ok {
		return readKilled
	}
	return readOn
}

// flushSends handles the sends b holds and empties it.
func (c *conn) flushSends(ctx context.Context, b *sendBatch) {
	if len(b.frames) > 0 {
		c.sendRead = b.read
		c.sends(ctx, b.frames)
		c.sendRead = 0
	}
	clear(b.frames)
	b.frames, b.bytes = b.frames[:0], 0
}

// maxClientHead is the longest head of a client's WebSocket frame: 2
// bytes, an 8-byte length, a 4-byte mask key.
const maxClientHead = 14

// frameReady reports whether the client's next frame is already here
// whole (in the read buffer, or on the socket), so that reading it
// cannot wait: an unfragmented text frame no larger than
// protocol.MaxFrameBytes. Anything else (a control frame, a fragment, a
// frame still arriving) is read by the next readFrame, as before.
func (c *conn) frameReady() bool {
	if c.br == nil {
		return false
	}
	c.brMu.Lock()
	defer c.brMu.Unlock()
	if c.brIdle {
		return false
	}
	avail := c.br.Buffered()
	if c.raw != nil {
		avail += socketBuffered(c.raw)
	}
	// Peek reads no more than avail: bytes the socket holds, so it
	// does not wait.
	head, err := c.br.Peek(min(avail, maxClientHead, c.br.Size()))
	if err != nil {
		return false
	}
	return wholeFrame(head, avail)
}

// wholeFrame reports whether head, the start of avail bytes the client
// sent, begins an unfragmented text frame of at most
// protocol.MaxFrameBytes that avail holds whole.
func wholeFrame(head []byte, avail int) bool {
	if len(head) < 2 || head[0] != 0x81 { // FIN, no extension bits, text
		return false
	}
	n, hl := uint64(head[1]&0x7f), 2
	switch n {
	case 126:
		if len(head) < 4 {
			return false
		}
		n, hl = uint64(binary.BigEndian.Uint16(head[2:4])), 4
	case 127:
		if len(head) < 10 {
			return false
		}
		n, hl = binary.BigEndian.Uint64(head[2:10]), 10
	}
	if head[1]&0x80 != 0 {
		hl += 4 // the mask key
	}
	return n <= protocol.MaxFrameBytes && uint64(hl)+n <= uint64(avail)
}

// frame checks, decodes and handles one frame the client sent; false
// when it killed the connection. A send joins b (see sendBatch); any
// other frame, or a send to another room, handles what b holds first.
func (c *conn) frame(ctx context.Context, typ websocket.MessageType, data []byte, b *sendBatch) bool {
	if !c.frameLim.Allow() {
		c.flushSends(ctx, b)
		c.kill(protocol.CloseFlood, "too many frames")
		return false
	}
	if typ != websocket.MessageText {
		c.flushSends(ctx, b)
		c.kill(protocol.CloseProtocolError, "binary frames are not supported")
		return false
	}
	f, err := protocol.Decode(data)
	if err != nil {
		// Not a Parley frame of this version: the client speaks
		// something else and could not read an error frame either.
		c.flushSends(ctx, b)
		c.kill(protocol.CloseProtocolError, closeReason(err))
		return false
	}
	if err := protocol.ValidateClient(f); err != nil {
		c.flushSends(ctx, b)
		c.reject(f, err)
		return true
	}
	if f.Type == protocol.TypeSend {
		if len(b.frames) > 0 && (f.Room != b.frames[0].Room || b.bytes+len(data) > maxSendBatchBytes) {
			c.flushSends(ctx, b)
		}
		if len(b.frames) == 0 {
			b.read = c.s.cfg.Stages.Now()
		}
		b.frames = append(b.frames, f)
		b.bytes += len(data)
		return true
	}
	c.flushSends(ctx, b)
	c.handle(ctx, f)
	return true
}

// onFreshStack runs f on a goroutine of its own and waits for it. The
// reader waits for the next frame for most of a connection's life, and a
// goroutine's stack keeps what its deepest call grew it to (the garbage
// collector only halves it, and only when it collects): run on the
// reader, one auth or subscribe (token check, store, hub) left every idle
// connection an 8 KiB stack; this way the reader's stays small and the
// deep call's is freed when it returns. It costs a goroutine per client
// frame, which clients send a few of per second.
func onFreshStack(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
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
	for _, opt := range knownFeatures {
		if protocol.HasFeature(f.Features, opt.name) {
			opt.flag(c).Store(true)
			features = append(features, opt.name)
		}
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

// rearmTimer re-arms the deadline timer after auth or a token refresh
// moved the deadlines.
func (c *conn) rearmTimer() { c.armDeadline(c.s.cfg.Now()) }

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

// knownFeatures are the optional protocol features a node confirms in its
// welcome, in that order, each with the connection's flag that records
// the client asked for it.
var knownFeatures = []struct {
	name string
	flag func(*conn) *atomic.Bool
}{
	{protocol.FeatureBatch, func(c *conn) *atomic.Bool { return &c.batch }},
	{protocol.FeaturePresenceDelta, func(c *conn) *atomic.Bool { return &c.deltas }},
	{protocol.FeatureEdits, func(c *conn) *atomic.Bool { return &c.edits }},
	{protocol.FeatureRoomEvents, func(c *conn) *atomic.Bool { return &c.changes }},
	{protocol.FeatureReactions, func(c *conn) *atomic.Bool { return &c.reacts }},
	{protocol.FeatureWatch, func(c *conn) *atomic.Bool { return &c.watchOK }},
}
