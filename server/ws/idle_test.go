package ws

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// writing reports whether a writer goroutine runs for c.
func (c *conn) writing() bool {
	c.q.mu.Lock()
	defer c.q.mu.Unlock()
	return c.q.writing
}

// TestIdleConnHasNoWriter: once the welcome is written the writer
// returns; a frame queued later starts one that delivers it and returns
// too; a kill of the idle connection still closes it with its code.
func TestIdleConnHasNoWriter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, sc := dialAuthed(t)
		synctest.Wait()
		if sc.writing() {
			t.Fatal("a writer still runs for an idle connection")
		}
		sc.Send([]byte(`{"v":1,"type":"pong","id":"x"}`), false)
		c.expect(protocol.TypePong, time.Now())
		synctest.Wait()
		if sc.writing() {
			t.Fatal("the writer did not return once the queue was empty")
		}
		sc.kill(protocol.CloseSlowConsumer, "test")
		c.expectClose(protocol.CloseSlowConsumer, time.Now())
	})
}

// TestWriterTurnsShareAPoolWorker: the writer turns of two connections,
// one after the other, run on one pooled worker, which idles between
// them; Drain ends it.
func TestWriterTurnsShareAPoolWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := startPipeServer(t, Config{})
		type pair struct {
			client *testClient
			server *conn
		}
		var pairs []pair
		for range 2 {
			c := p.dial(t)
			c.send(protocol.Frame{Type: protocol.TypeAuth, Token: "alice 24h"})
			c.expect(protocol.TypeWelcome, time.Now())
			p.mu.Lock()
			for sc := range p.conns {
				if len(pairs) == 0 || pairs[0].server != sc {
					pairs = append(pairs, pair{c, sc})
				}
			}
			p.mu.Unlock()
		}
		synctest.Wait()
		if n := p.writers.idleWorkers(); n != 1 {
			t.Fatalf("after two welcomes: %d idle writer workers, want 1", n)
		}
		for range 3 {
			for _, c := range pairs {
				c.server.Send([]byte(`{"v":1,"type":"pong","id":"x"}`), false)
				c.client.expect(protocol.TypePong, time.Now())
				synctest.Wait()
				if n := p.writers.idleWorkers(); n != 1 {
					t.Fatalf("after a turn: %d idle writer workers, want 1", n)
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if n := p.writers.idleWorkers(); n != 0 {
			t.Fatalf("after Drain: %d idle writer workers, want 0", n)
		}
	})
}
