package ws

import (
	"sync"

	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/stages"
	"github.com/parleychat/parley/shared/protocol"
)

// Turns is hub.Turns for this package's connections: a room's fan-out
// queues each member's frames as Send and SendAll do, but the writers
// the pushes need are gathered, and Start runs them as group turns, one
// goroutine for up to groupMax connections, instead of a goroutine each.
// A group turn writes to its connections one after the other, each
// write without blocking (frameWriter.tryText): a connection whose socket
// does not take all it has is handed to its own writer goroutine, as
// without Turns, with what it could not write back at the front of its
// queue (and a message written in part finished first), so a client
// that reads slowly never holds the others. A group turn is each of its
// connections' one writer (queue.writing stays set) until it hands the
// connection on or finds its queue empty.
//
// A Turns is used by one goroutine (a room's actor).
type Turns struct {
	pend []*conn // connections whose writer waits for Start
}

var _ hub.Turns = (*Turns)(nil)

// NewTurns returns an empty Turns (hub.Config.Turns).
func NewTurns() hub.Turns { return &Turns{} }

// groupMax is the most connections one group turn writes to.
const groupMax = 32

// connOf is the connection a subscriber of this package writes to; nil
// for any other subscriber.
func connOf(sub hub.Subscriber) *conn {
	switch s := sub.(type) {
	case *conn:
		return s
	case *watcher:
		return s.c
	}
	return nil
}

// Send implements hub.Turns: conn.Send, the writer left to Start.
func (t *Turns) Send(sub hub.Subscriber, frame []byte, droppable bool) bool {
	c := connOf(sub)
	if c == nil {
		return sub.Send(frame, droppable)
	}
	ok, wake := c.q.push(frame, droppable)
	t.gather(c, wake)
	if !ok && !droppable {
		c.kill(protocol.CloseSlowConsumer, "too slow; reconnect and recover")
	}
	return ok
}

// SendAll implements hub.Turns: conn.SendAll, the writer left to Start.
func (t *Turns) SendAll(sub hub.Subscriber, frames [][]byte) bool {
	c := connOf(sub)
	if c == nil {
		return hub.SendAll(sub, frames)
	}
	ok, wake := c.q.pushAll(frames)
	t.gather(c, wake)
	if !ok {
		c.kill(protocol.CloseSlowConsumer, "too slow; reconnect and recover")
	}
	return ok
}

// gather keeps c for Start when its push must start a writer: one with
// no socket to try a write on gets its own at once.
func (t *Turns) gather(c *conn, wake bool) {
	switch {
	case !wake:
	case c.fw == nil || c.fw.raw == nil:
		go c.writeFn()
	default:
		t.pend = append(t.pend, c)
	}
}

// Start implements hub.Turns: it runs the gathered writers, the
// connections dealt evenly over as few group turns of at most groupMax
// as take them all; a lone connection gets its own writer.
func (t *Turns) Start() {
	n := len(t.pend)
	if n == 0 {
		return
	}
	groups := (n + groupMax - 1) / groupMax
	for i := range groups {
		part := t.pend[i*n/groups : (i+1)*n/groups]
		if len(part) == 1 {
			go part[0].writeFn()
			continue
		}
		g := groupPool.Get().(*group)
		if g.runFn == nil {
			g.runFn = g.run
		}
		g.n = copy(g.conns[:], part)
		go g.runFn()
	}
	clear(t.pend)
	t.pend = t.pend[:0]
}

// group is one group turn's connections; runFn is run, made once, so
// that starting one allocates nothing.
type group struct {
	conns [groupMax]*conn
	n     int
	runFn func()
}

var groupPool = sync.Pool{New: func() any { return new(group) }}

// run is a group turn: a turn for each connection in order (conn.turn),
// none of which blocks. It owns a writer's batch slice for them all.
func (g *group) run() {
	box := slots.Get().(*[][]byte)
	batch := (*box)[:0]
	for i, c := range g.conns[:g.n] {
		batch = c.turn(batch)
		if cap(batch) > idleSlots {
			batch = (*box)[:0] // give back what a burst grew
		}
		g.conns[i] = nil
	}
	*box = batch[:0]
	slots.Put(box)
	g.n = 0
	groupPool.Put(g)
}

// maxTurnPasses bounds the takes from one connection's queue in a group
// turn: frames that keep coming go to its own writer, not the group's.
const maxTurnPasses = 2

// turn is c's writer's turn within a group turn: it writes what c's queue
// holds without blocking, and ends c's turn when the queue is empty.
// Anything it cannot finish (a full socket, a kill, a closed queue, more
// frames after maxTurnPasses) goes to c's own writer (writeRun), which
// it starts: the queue still counts one writer, now that one. batch is
// the group's slice, returned empty for the next connection.
func (c *conn) turn(batch [][]byte) [][]byte {
	for range maxTurnPasses {
		select {
		case <-c.killed:
			go c.writeFn()
			return batch[:0]
		default:
		}
		var since int64
		var open bool
		batch, since, open = c.q.next(batch)
		if !open {
			go c.writeFn() // it closes the connection, or just returns
			return batch[:0]
		}
		if len(batch) == 0 {
			c.q.writers.Done() // the queue is empty: c's turn ends
			return batch
		}
		n, part, err := c.tryQueued(batch)
		if err != nil {
			c.writeFailed(err)
			clear(batch)
			c.q.writers.Done()
			return batch[:0]
		}
		if n < len(batch) || part {
			// Its own writer finishes a message written in part
			// first, then what is back in the queue.
			c.q.unshift(batch[n:], since)
			clear(batch)
			go c.writeFn()
			return batch[:0]
		}
		clear(batch)
		c.s.cfg.Stages.Observe(stages.ConnWrite, since)
	}
	go c.writeFn()
	return batch[:0]
}

// tryQueued writes frames as writeQueued does, each message without
// blocking (frameWriter.tryText), and returns how many of the frames are
// on their way; it stops at the first message the socket did not take,
// and after one it took only in part (part).
func (c *conn) tryQueued(frames [][]byte) (n int, part bool, err error) {
	if len(frames) == 1 || !c.batch.Load() {
		for i, f := range frames {
			sent, part, err := c.fw.tryText(f)
			if err != nil || !sent || part {
				if sent {
					i++
				}
				return i, part, err
			}
		}
		return len(frames), false, nil
	}
	buf := batchBufs.Get().(*[]byte)
	b := (*buf)[:0]
	// b holds frames[n:i]: written, they are on their way.
	sent := true
	for i, f := range frames {
		if len(b) > 0 && len(b)+1+len(f) > protocol.MaxBatchBytes {
			if sent, part, err = c.fw.tryText(b); err != nil || !sent {
				break
			}
			b, n = b[:0], i
			if part {
				break
			}
		}
		b = protocol.AppendBatch(b, f)
	}
	if sent && err == nil && !part {
		if sent, part, err = c.fw.tryText(b); err == nil && sent {
			n = len(frames)
		}
	}
	if cap(b) <= 2*protocol.MaxBatchBytes {
		*buf = b[:0]
		batchBufs.Put(buf)
	}
	return n, part, err
}
