package client

import "github.com/parleychat/parley/shared/protocol"

// MarkRead tells the node that the user has read room up to offset
// (protocol.TypeRead). It never blocks. Only a larger offset than the
// last one marked for the room is sent; one marked while disconnected,
// or dropped because the send queue was full, is sent when the next
// connection starts (the largest per room). The node announces a marker
// that moved on the user's inbox (protocol.UserRead): that event, not
// this call, is what every tab should follow.
func (c *Client) MarkRead(room string, offset int64) {
	if !protocol.ValidRoomName(room) || offset <= 0 {
		return
	}
	c.mu.Lock()
	if offset <= c.marked[room] {
		c.mu.Unlock()
		return
	}
	c.marked[room] = offset
	cn := c.cur
	if cn == nil {
		c.unsentReads[room] = offset
		c.mu.Unlock()
		return
	}
	delete(c.unsentReads, room)
	c.mu.Unlock()
	if !cn.enqueue(readFrame(room, offset), true) {
		c.mu.Lock()
		c.unsentReads[room] = max(c.unsentReads[room], offset)
		c.mu.Unlock()
	}
}

// takeUnsentReads returns the read frames waiting for a connection and
// forgets them. Called with c.mu held.
func (c *Client) takeUnsentReads() [][]byte {
	var out [][]byte
	for room, offset := range c.unsentReads {
		out = append(out, readFrame(room, offset))
	}
	clear(c.unsentReads)
	return out
}

func readFrame(room string, offset int64) []byte {
	return encode(protocol.Frame{Type: protocol.TypeRead, Room: room, Offset: offset})
}
