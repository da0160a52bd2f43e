package ws

import (
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
