package ws

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleychat/parley/shared/protocol"
)

// smallBuffers dials with a small socket receive buffer, and shrinks the
// send buffer of the server's side of each connection it is given, so
// that a client that stops reading fills them after a few frames.
func smallBuffers(t *testing.T) *websocket.DialOptions {
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return setBuffer(rc, syscall.SO_RCVBUF)
	}}
	return &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}}
}

func setBuffer(rc syscall.RawConn, opt int) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, 8<<10)
	}); err != nil {
		return err
	}
	return serr
}

// seqFrame is frame i of a test stream: its number, then padding to
// size bytes.
func seqFrame(i, size int) []byte {
	head := fmt.Sprintf("frame %06d ", i)
	return []byte(head + strings.Repeat("x", size-len(head)))
}

// seqReader reads a client's stream of seqFrames, in messages of one
// frame, or of several (batch: newline-separated).
type seqReader struct {
	c    *websocket.Conn
	size int
	next int // the frame it reads next
}

// readTo reads until it has read every frame before want, checking each
// is the next one, whole.
func (r *seqReader) readTo(ctx context.Context, want int) error {
	for r.next < want {
		_, data, err := r.c.Read(ctx)
		if err != nil {
			return fmt.Errorf("read frame %d: %w", r.next, err)
		}
		for f := range bytes.SplitSeq(data, []byte{'\n'}) {
			if !bytes.Equal(f, seqFrame(r.next, r.size)) {
				return fmt.Errorf("read %.12q… (%d bytes), want frame %d of %d bytes", f, len(f), r.next, r.size)
			}
			r.next++
		}
	}
	return nil
}

// TestGroupTurnStalledReaderHoldsNoOne: three connections share one
// group turn, the first a client that stops reading. Once its socket is
// full (its turn handed on to its own writer, which blocks), the others
// still get every frame of each fan-out (a group turn that blocked on
// the first would hold them); then the stalled client reads every frame
// it was sent, whole, in order and once each, including the message the
// group turn wrote in part. With batch, each fan-out is 8 frames, which
// make two messages.
func TestGroupTurnStalledReaderHoldsNoOne(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(map[bool]string{false: "single", true: "batch"}[batch], func(t *testing.T) {
			testGroupTurnStalled(t, batch)
		})
	}
}

func testGroupTurnStalled(t *testing.T, batch bool) {
	conns, _, clients := startTCPClients(t, 3, batch, false, smallBuffers(t))
	for _, c := range conns {
		if err := setBuffer(c.raw, syscall.SO_SNDBUF); err != nil {
			t.Fatal(err)
		}
	}
	// A safety net for a test that would otherwise hang when a group
	// turn blocks: the assertions below wait on frames, not time.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const size = 10007 // not a divisor of any buffer size
	per := 1
	if batch {
		per = 8
	}
	readers := make([]*seqReader, len(clients))
	for i, c := range clients {
		c.SetReadLimit(1 << 20)
		readers[i] = &seqReader{c: c, size: size}
	}
	turns := NewTurns()
	handedOn, sent := -1, 0
	for round := 0; handedOn < 0 || round < handedOn+8; round++ {
		if round == 400 {
			t.Fatalf("the stalled connection's socket took %d frames of %d bytes without filling", sent, size)
		}
		frames := make([][]byte, per)
		for i := range frames {
			frames[i] = seqFrame(sent+i, size)
		}
		sent += per
		for _, c := range conns {
			if !turns.SendAll(c, frames) {
				t.Fatalf("frames %d refused", sent)
			}
		}
		turns.Start()
		for _, r := range readers[1:] {
			if err := r.readTo(ctx, sent); err != nil {
				t.Fatalf("a reading client behind a stalled one: %v", err)
			}
		}
		// The group turn has ended (the last connection's frames were
		// read); the stalled one's writer still running means its
		// turn was handed on.
		conns[0].q.mu.Lock()
		writing := conns[0].q.writing
		conns[0].q.mu.Unlock()
		if writing && handedOn < 0 {
			handedOn = round
		}
	}
	if err := readers[0].readTo(ctx, sent); err != nil {
		t.Fatalf("the stalled client, reading again: %v", err)
	}
	// Nothing more (no frame twice): a ping is answered next.
	ping, err := protocol.Encode(protocol.Frame{Type: protocol.TypePing, ID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if err := clients[0].Write(ctx, websocket.MessageText, ping); err != nil {
		t.Fatal(err)
	}
	if _, data, err := clients[0].Read(ctx); err != nil || !bytes.Contains(data, []byte(`"pong"`)) {
		t.Fatalf("after the frames: %.40q, %v; want the pong", data, err)
	}
}

// TestTryTextPartialThenFlush: a frameWriter on a socket whose reader
// has stopped writes messages without blocking until the socket takes
// one in part; that one's rest is kept, nothing more is tried while it
// waits, and the next write sends it first, so the reader gets every
// message whole and in order.
func TestTryTextPartialThenFlush(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return setBuffer(rc, syscall.SO_RCVBUF)
	}}
	client, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	raw, err := server.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := setBuffer(raw, syscall.SO_SNDBUF); err != nil {
		t.Fatal(err)
	}
	fw := &frameWriter{w: server, raw: raw}
	const size = 3001 // a message is 4 + size bytes
	var got bytes.Buffer
	n := 0
	for !fw.hasRest() {
		if n == 5000 {
			t.Fatalf("%d messages of %d bytes, none taken in part", n, size)
		}
		sent, _, err := fw.tryText(seqFrame(n, size))
		switch {
		case err != nil:
			t.Fatal(err)
		case sent:
			n++
		default: // full at a message's end: make a little room
			if _, err := io.CopyN(&got, client, 1000); err != nil {
				t.Fatal(err)
			}
		}
	}
	if sent, _, err := fw.tryText(seqFrame(n, size)); sent || err != nil {
		t.Fatalf("tryText with a rest waiting: sent %v, %v; want nothing sent", sent, err)
	}
	done := make(chan error, 1)
	go func(i int) { done <- fw.writeText(seqFrame(i, size)) }(n)
	n++
	if _, err := io.CopyN(&got, client, int64(n*(4+size)-got.Len())); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		head := got.Next(4)
		if head[0] != finBit|opText || head[1] != 126 || int(head[2])<<8|int(head[3]) != size {
			t.Fatalf("message %d: header % x", i, head)
		}
		if m := got.Next(size); !bytes.Equal(m, seqFrame(i, size)) {
			t.Fatalf("message %d: %.12q…", i, m)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fw.hasRest() {
		t.Fatal("a rest is left after writeText")
	}
}

// TestGroupTurnsAllocateNothing: a frame handed to 8 idle connections
// through Turns (their writers start as one group turn, write and end)
// allocates nothing, as TestWriterBurstsAllocateNothing for one
// connection's own writer: the bound is under one object per fan-out of
// 8 deliveries (under the race detector, whose sync.Pool drops a quarter
// of what it is given, two per delivery, as there).
func TestGroupTurnsAllocateNothing(t *testing.T) {
	const n = 8
	conns, readers := startTCPFanout(t, n, false)
	frame, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: &protocol.Message{
		Room: "general", Offset: 1, Author: "ann", Body: strings.Repeat("x", 100), TS: 1}})
	if err != nil {
		t.Fatal(err)
	}
	turns := NewTurns()
	sent := int64(0)
	allocs := testing.AllocsPerRun(200, func() {
		for _, c := range conns {
			if !turns.Send(c, frame, false) {
				t.Fatal("queue refused a frame")
			}
		}
		turns.Start()
		sent++
		readers.waitAll(sent)
	})
	limit := 1.0
	if raceEnabled {
		limit = 2 * n
	}
	if allocs >= limit {
		t.Fatalf("a fan-out to %d idle connections allocates %.2f objects, want none", n, allocs)
	}
}
