package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// readMessage returns the ids of the frames in the next WebSocket message.
func (c *testClient) readMessage() []string {
	c.t.Helper()
	_, b, err := c.ws.Read(context.Background())
	if err != nil {
		c.t.Fatalf("read message: %v", err)
	}
	var ids []string
	for f, rest := protocol.NextFrame(b); f != nil; f, rest = protocol.NextFrame(rest) {
		fr, err := protocol.Decode(f)
		if err != nil {
			c.t.Fatalf("frame %q of message %q: %v", f, b, err)
		}
		ids = append(ids, fr.ID)
	}
	return ids
}

// queueWhileBlocked queues m0, waits until the writer is stuck writing it
// to a client that does not read, then queues m1…m4.
func queueWhileBlocked(t *testing.T, sc *conn) {
	for i := range 5 {
		b, err := protocol.Encode(protocol.Frame{Type: protocol.TypePong, ID: fmt.Sprint("m", i)})
		if err != nil {
			t.Fatal(err)
		}
		if !sc.Send(b, false) {
			t.Fatalf("Send refused m%d", i)
		}
		if i == 0 {
			synctest.Wait()
		}
	}
}

// TestConnBatchesWhatQueuedMeanwhile: a client that asked for the batch
// feature gets it confirmed in welcome, and the frames queued while the
// writer was busy arrive as one message, in order.
func TestConnBatchesWhatQueuedMeanwhile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startPipeServer(t, Config{})
		c := s.dial(t)
		c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 24h", Features: []string{"future", protocol.FeatureBatch}})
		w := c.expect(protocol.TypeWelcome, time.Now())
		if !slices.Equal(w.Features, []string{protocol.FeatureBatch}) {
			t.Fatalf("welcome features = %q, want [batch]", w.Features)
		}
		queueWhileBlocked(t, s.only(t))
		if got := c.readMessage(); !slices.Equal(got, []string{"m0"}) {
			t.Fatalf("first message = %q", got)
		}
		if got := c.readMessage(); !slices.Equal(got, []string{"m1", "m2", "m3", "m4"}) {
			t.Fatalf("second message = %q, want m1…m4 in one", got)
		}
	})
}

// TestConnOneFramePerMessageForOldClients: without the feature, welcome
// confirms nothing and every frame is its own message.
func TestConnOneFramePerMessageForOldClients(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startPipeServer(t, Config{})
		c := s.dial(t)
		c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 24h"})
		if w := c.expect(protocol.TypeWelcome, time.Now()); len(w.Features) != 0 {
			t.Fatalf("welcome features = %q for a client that asked for none", w.Features)
		}
		queueWhileBlocked(t, s.only(t))
		for i := range 5 {
			if got := c.readMessage(); !slices.Equal(got, []string{fmt.Sprint("m", i)}) {
				t.Fatalf("message %d = %q", i, got)
			}
		}
	})
}

// TestWriteQueuedSplitsAtMaxBatchBytes: a batch never grows past
// MaxBatchBytes; a frame larger than that travels alone.
func TestWriteQueuedSplitsAtMaxBatchBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startPipeServer(t, Config{QueueBytes: 8 * protocol.MaxBatchBytes})
		c := s.dial(t)
		c.ws.SetReadLimit(4 * protocol.MaxBatchBytes)
		c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 24h", Features: []string{protocol.FeatureBatch}})
		c.expect(protocol.TypeWelcome, time.Now())
		sc := s.only(t)
		frame := func(id string, pad int) []byte {
			b, err := protocol.Encode(protocol.Frame{Type: protocol.TypeError, ID: id, Message: strings.Repeat("x", pad)})
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		sc.Send(frame("first", 0), false)
		synctest.Wait()
		third := protocol.MaxBatchBytes / 3
		for _, f := range [][]byte{frame("a", third), frame("b", third), frame("c", third), frame("big", protocol.MaxBatchBytes), frame("d", 0)} {
			if !sc.Send(f, false) {
				t.Fatal("Send refused a frame")
			}
		}
		want := [][]string{{"first"}, {"a", "b"}, {"c"}, {"big"}, {"d"}}
		for i, w := range want {
			_, b, err := c.ws.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > protocol.MaxBatchBytes && len(w) > 1 {
				t.Fatalf("message %d is %d bytes", i, len(b))
			}
			var ids []string
			for f, rest := protocol.NextFrame(b); f != nil; f, rest = protocol.NextFrame(rest) {
				var fr protocol.Frame
				if err := json.Unmarshal(f, &fr); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, fr.ID)
			}
			if !slices.Equal(ids, w) {
				t.Fatalf("message %d = %q, want %q", i, ids, w)
			}
		}
	})
}

// TestWriteTimeoutCutsStuckClient: a client that stops reading holds the
// writer in a write; the connection's one write timer cuts it after
// WriteTimeout (and not before), and the node forgets the connection.
func TestWriteTimeoutCutsStuckClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 3 * time.Second
		s := startPipeServer(t, Config{WriteTimeout: timeout})
		c := s.dial(t)
		c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 24h"})
		c.expect(protocol.TypeWelcome, time.Now())
		sc := s.only(t)
		// Many quick writes first: the timer is re-armed, never fires.
		for i := range 20 {
			if !sc.Send([]byte(fmt.Sprintf(`{"v":1,"type":"pong","id":"q%d"}`, i)), false) {
				t.Fatal("Send refused a frame")
			}
			c.expect(protocol.TypePong, time.Now())
			time.Sleep(timeout / 2)
		}
		// Now the client reads nothing: the next write blocks.
		start := time.Now()
		sc.Send([]byte(`{"v":1,"type":"pong","id":"stuck"}`), false)
		conns := func() int {
			synctest.Wait()
			s.mu.Lock()
			defer s.mu.Unlock()
			return len(s.conns)
		}
		for conns() == 1 && time.Since(start) < 10*timeout {
			time.Sleep(10 * time.Millisecond) // fake time: exact
		}
		if took := time.Since(start); took < timeout || took > timeout+10*time.Millisecond {
			t.Fatalf("the stuck write was cut after %v, want %v", took, timeout)
		}
	})
}
