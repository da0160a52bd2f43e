package protocol

import "fmt"

// Client frames that change a stored message. Each is answered like a
// send: an ack {cid, room, offset, ts} naming the event it stored, or an
// error with ref=cid. They are idempotent on (author, cid) like sends.
const (
	// TypeEdit (client): {room, cid, target, body} replaces the body of
	// the message at offset target. Only its author may edit it.
	TypeEdit = "edit"
	// TypeDelete (client): {room, cid, target} deletes the message at
	// offset target: its author may, and so may the room's owners and
	// moderators.
	TypeDelete = "delete"
)

// Message kinds (Message.Kind). A plain message has none. An edit or a
// deletion is a room event of its own, with its own offset, whose Target
// is the offset of the message it changes.
const (
	// MsgEdit: Author replaced the body of the message at Target with
	// Body.
	MsgEdit = "edit"
	// MsgDelete: Author deleted the message at Target; Body is empty.
	MsgDelete = "delete"
)

// FeatureEdits ("edits"): the client understands edit and delete events
// (messages with a Kind). A client without it is never sent one: not
// live, not in a subscribe backlog, not in a history reply.
const FeatureEdits = "edits"

// IsEvent reports whether m is an event (an edit, deletion, reaction or
// room event) rather than a message.
func (m *Message) IsEvent() bool { return m.Kind != "" }

// checkAmend checks an edit or delete frame's fields.
func checkAmend(f Frame) error {
	if err := CheckRoomName(f.Room); err != nil {
		return err
	}
	if err := checkID("cid", f.CID, MaxCIDLen, true); err != nil {
		return err
	}
	if f.Target <= 0 {
		return badRequest("target must be the positive offset of a message")
	}
	if f.Type == TypeDelete {
		if f.Body != "" {
			return badRequest("a delete carries no body")
		}
		return nil
	}
	return CheckBody(f.Body)
}

// checkEvent checks the fields of an event from a node.
func checkEvent(m Message) error {
	switch m.Kind {
	case "":
		if m.Target != 0 {
			return badRequest("a message without kind has no target")
		}
		return nil
	case MsgEdit, MsgDelete, MsgReact, MsgUnreact:
		if m.Target <= 0 || m.Target >= m.Offset {
			return badRequest("%s event at %d targets offset %d", m.Kind, m.Offset, m.Target)
		}
		return nil
	case MsgRoom:
		if m.Target != 0 {
			return badRequest("room event at %d has a target", m.Offset)
		}
		return nil
	}
	return badRequest("%s", fmt.Sprintf("unknown message kind %q", m.Kind))
}
