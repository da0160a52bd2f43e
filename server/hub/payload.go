package hub

import (
	"bytes"
	"strconv"

	"github.com/parleychat/parley/shared/protocol"
)

// Broker payloads carry a small header before the encoded frame, so a
// node routes one without decoding it, and passes the frame's bytes to
// every subscriber as they are:
//
//	m<offset>\n<msg frame>     a stored message
//	e<offset>\n<msg frame>     a stored edit or deletion (only to clients with protocol.FeatureEdits)
//	c<offset>\n<msg frame>     a stored room event (only to clients with protocol.FeatureRoomEvents)
//	a<offset>\n<msg frame>     a stored reaction event (only to clients with protocol.FeatureReactions)
//	t\n<typing frame>          someone is typing
//	p\n<presence frame>        a room's presence changed (re-read it)
//	r\n<removed frame>         a user lost the room's membership (decoded)
//
// The broker's cluster MAC (broker.Signed) covers header and frame
// alike. A payload starting with '{' is a bare frame, as nodes before
// the header published: it is decoded to learn the same, so a cluster
// in the middle of a rolling deploy keeps working one way (older nodes
// drop headed payloads, and their reconcile recovers those messages).
const (
	kindMsg      = 'm'
	kindEvent    = 'e'
	kindChange   = 'c'
	kindReaction = 'a'
	kindTyping   = 't'
	kindPresence = 'p'
	kindRemoved  = 'r'
)

// maxHeader bounds a header: a kind byte, an int64 in decimal, '\n'.
const maxHeader = 1 + 20 + 1

// msgKind is the header kind of a stored message or event.
func msgKind(m *protocol.Message) byte {
	return kindOf(m.Kind)
}

// kindOf is the header kind of a stored message or event of Kind kind.
func kindOf(kind string) byte {
	switch kind {
	case "":
		return kindMsg
	case protocol.MsgRoom:
		return kindChange
	case protocol.MsgReact, protocol.MsgUnreact:
		return kindReaction
	}
	return kindEvent
}

// stored reports whether a header kind is that of a stored message or
// event (it carries an offset).
func stored(kind byte) bool {
	return kind == kindMsg || kind == kindEvent || kind == kindChange || kind == kindReaction
}

// headed prepends the header of kind (and offset, for a message) to an
// encoded frame.
func headed(kind byte, offset int64, frame []byte) []byte {
	b := make([]byte, 0, maxHeader+len(frame))
	b = append(b, kind)
	if stored(kind) {
		b = strconv.AppendInt(b, offset, 10)
	}
	b = append(b, '\n')
	return append(b, frame...)
}

// route reads the kind and offset of a payload published to room and
// returns the frame to send on. ok is false for a payload that is neither
// headed nor a frame this hub routes.
func route(room string, p []byte) (kind byte, offset int64, frame []byte, ok bool) {
	if len(p) == 0 {
		return 0, 0, nil, false
	}
	if p[0] == '{' {
		return routeFrame(room, p)
	}
	i := bytes.IndexByte(p[:min(len(p), maxHeader)], '\n')
	if i < 1 {
		return 0, 0, nil, false
	}
	kind, frame = p[0], p[i+1:]
	switch kind {
	case kindMsg, kindEvent, kindChange, kindReaction:
		o, err := strconv.ParseInt(string(p[1:i]), 10, 64) // no allocation: the conversion is only read
		if err != nil || o <= 0 {
			return 0, 0, nil, false
		}
		return kind, o, frame, true
	case kindTyping, kindPresence, kindRemoved:
		return kind, 0, frame, i == 1
	}
	return 0, 0, nil, false
}

// routeFrame routes a bare frame (no header) by decoding it.
func routeFrame(room string, p []byte) (kind byte, offset int64, frame []byte, ok bool) {
	f, err := protocol.Decode(p)
	if err != nil {
		return 0, 0, nil, false
	}
	switch f.Type {
	case protocol.TypeMsg:
		if f.Msg == nil || f.Msg.Offset <= 0 || f.Msg.Room != room {
			return 0, 0, nil, false
		}
		return msgKind(f.Msg), f.Msg.Offset, p, true
	case protocol.TypeTyping:
		return kindTyping, 0, p, true
	case protocol.TypePresence:
		return kindPresence, 0, p, true
	case protocol.TypeRemoved:
		return kindRemoved, 0, p, true
	}
	return 0, 0, nil, false
}
