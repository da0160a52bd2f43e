package store

import (
	"fmt"

	"github.com/parleychat/parley/shared/protocol"
)

// amendVerdict decides whether e (an edit or deletion by e.Author) may
// change target.
func amendVerdict(target, e Message, moderator bool) error {
	switch {
	case target.Kind != "":
		return fmt.Errorf("offset %d is an %s, not a message: %w", target.Offset, target.Kind, ErrNotFound)
	case target.Deleted:
		return fmt.Errorf("message %d: %w", target.Offset, ErrGone)
	case SameUser(target.Author, e.Author):
		return nil
	case e.Kind == protocol.MsgDelete && moderator:
		return nil
	}
	return fmt.Errorf("%s message %d of %s: %w", e.Kind, target.Offset, target.Author, ErrForbidden)
}

// amendDup checks that orig, the event or message e.Author stored under
// e.CID before, is e; a cid naming something else is ErrConflict.
func amendDup(orig, e Message) error {
	if orig.Room != e.Room || orig.Kind != e.Kind || orig.Target != e.Target {
		return fmt.Errorf("cid %q names another message: %w", e.CID, ErrConflict)
	}
	return nil
}

// checkAmendKind refuses anything but an edit or a deletion.
func checkAmendKind(e Message) error {
	if e.Kind != protocol.MsgEdit && e.Kind != protocol.MsgDelete {
		return fmt.Errorf("amend kind %q: neither edit nor delete", e.Kind)
	}
	return nil
}

// appendKind is the kind Append stores: a room event keeps its kind
// (protocol.MsgRoom); anything else is a message (edits go through
// Amend).
func appendKind(kind string) string {
	if kind == protocol.MsgRoom {
		return kind
	}
	return ""
}
