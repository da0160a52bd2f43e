package ws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// writeLog records each Write call it gets.
type writeLog struct{ calls [][]byte }

func (l *writeLog) Write(p []byte) (int, error) {
	l.calls = append(l.calls, bytes.Clone(p))
	return len(p), nil
}

// TestFrameWriterHoldsHeadUntilRest: a full head of a longer frame is
// held, then leaves with the rest; a frame that fits leaves at once.
func TestFrameWriterHoldsHeadUntilRest(t *testing.T) {
	log := &writeLog{}
	fw := &frameWriter{w: log}
	long := append([]byte{0x81, 126, 0, 200}, bytes.Repeat([]byte("x"), 200)...)
	if n, err := fw.Write(long[:frameHeadBytes]); n != frameHeadBytes || err != nil {
		t.Fatalf("Write(head) = %d, %v", n, err)
	}
	if len(log.calls) != 0 {
		t.Fatalf("the head of a %d-byte frame was written alone", len(long))
	}
	if n, err := fw.Write(long[frameHeadBytes:]); n != len(long)-frameHeadBytes || err != nil {
		t.Fatalf("Write(rest) = %d, %v", n, err)
	}
	if got := bytes.Join(log.calls, nil); !bytes.Equal(got, long) {
		t.Fatalf("wrote %q, want the frame %q", got, long)
	}
	log.calls = nil
	exact := append([]byte{0x81, 14}, bytes.Repeat([]byte("y"), 14)...) // 16 bytes in all
	if _, err := fw.Write(exact); err != nil {
		t.Fatal(err)
	}
	if len(log.calls) != 1 || !bytes.Equal(log.calls[0], exact) {
		t.Fatalf("a whole %d-byte frame was written as %q, want at once", len(exact), log.calls)
	}
}

func TestFrameSize(t *testing.T) {
	cases := []struct {
		head []byte
		want int64
	}{
		{[]byte{0x81}, -1},
		{[]byte{0x81, 5}, 7},
		{[]byte{0x81, 0x85, 1, 2, 3, 4}, 11},
		{[]byte{0x81, 126, 1, 0}, 4 + 256},
		{[]byte{0x81, 126, 1}, -1},
		{[]byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}, 10 + 65536},
	}
	for _, tc := range cases {
		if got := frameSize(tc.head); got != tc.want {
			t.Errorf("frameSize(%v) = %d, want %d", tc.head, got, tc.want)
		}
	}
}

// TestSmallBuffersCarryEverySize: messages of every size class, from one
// shorter than the write buffer to one past 64 KiB (8-byte length), cross
// a real connection written through smallReads' buffers, intact and in
// order, on an idle writer and on a busy one.
func TestSmallBuffersCarryEverySize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := startPipeServer(t, Config{QueueBytes: 1 << 20})
		c := p.dial(t)
		c.ws.SetReadLimit(-1)
		c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 24h"})
		c.expect(protocol.TypeWelcome, time.Now())
		sc := p.only(t)
		var want []string
		for _, n := range []int{0, 1, 13, 14, 15, 100, 123, 124, 125, 126, 200, 4096, 65535, 65536, 70000} {
			want = append(want, fmt.Sprintf(`{"type":"x","body":"%s"}`, strings.Repeat("b", n)))
		}
		for _, m := range want {
			sc.Send([]byte(m), false)
			synctest.Wait() // the writer is done and gone before the next
		}
		for _, m := range want {
			sc.Send([]byte(m), false) // one writer takes them as they come
		}
		for i := range 2 * len(want) {
			_, b, err := c.ws.Read(context.Background())
			if err != nil {
				t.Fatalf("read message %d: %v", i, err)
			}
			if m := want[i%len(want)]; string(b) != m {
				t.Fatalf("message %d: got %d bytes, want %d", i, len(b), len(m))
			}
		}
	})
}

// TestWriteTextFrames: writeText frames a message as coder/websocket
// would (FIN, text, unmasked, the shortest length encoding), for every
// length class.
func TestWriteTextFrames(t *testing.T) {
	cases := []struct {
		n    int
		head []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xff, 0xff}},
		{65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	}
	for _, tc := range cases {
		log := &writeLog{}
		fw := &frameWriter{w: log}
		msg := bytes.Repeat([]byte("m"), tc.n)
		if err := fw.writeText(msg); err != nil {
			t.Fatalf("writeText(%d bytes): %v", tc.n, err)
		}
		want := append(bytes.Clone(tc.head), msg...)
		if got := bytes.Join(log.calls, nil); !bytes.Equal(got, want) {
			t.Fatalf("writeText(%d bytes) wrote head %v, want %v", tc.n, got[:min(len(got), 10)], tc.head)
		}
		if frameSize(want) != int64(len(want)) {
			t.Fatalf("frame of %d bytes: frameSize says %d", len(want), frameSize(want))
		}
	}
}

// TestWriteTextKeepsFramesWhole: a message written while coder/websocket
// holds the head of one of its frames goes out before that frame, both
// intact; once coder/websocket has written a close frame, no message
// follows it.
func TestWriteTextKeepsFramesWhole(t *testing.T) {
	log := &writeLog{}
	fw := &frameWriter{w: log}
	pong := append([]byte{0x8a, 30}, bytes.Repeat([]byte("p"), 30)...)
	if _, err := fw.Write(pong[:frameHeadBytes]); err != nil {
		t.Fatal(err)
	}
	if err := fw.writeText([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(pong[frameHeadBytes:]); err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0x81, 5, 'h', 'e', 'l', 'l', 'o'}, pong...)
	if got := bytes.Join(log.calls, nil); !bytes.Equal(got, want) {
		t.Fatalf("wrote %q, want %q", got, want)
	}
	closeFrame := []byte{0x88, 2, 0x03, 0xe8} // 1000
	if _, err := fw.Write(closeFrame); err != nil {
		t.Fatal(err)
	}
	log.calls = nil
	if err := fw.writeText([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("writeText after a close frame: %v, want net.ErrClosed", err)
	}
	if len(log.calls) != 0 {
		t.Fatalf("a message followed the close frame: %q", log.calls)
	}
}
