package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parleychat/parley/shared/protocol"
)

// sqliteUnreadColumns are RoomsOf's marker, unread and mention counts
// (arguments: ?1 user, ?2 their name key, ?3 protocol.UnreadCap). Each
// count reads at most UnreadCap index entries per room: messages by
// (room, seq), mentions by (name_key, room, seq).
const sqliteUnreadColumns = `COALESCE(m.last_read, 0),
	CASE WHEN m.user_name IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM (SELECT 1 FROM messages x
		WHERE x.room = r.name AND x.seq > m.last_read AND x.author <> ?1 AND x.kind = '' AND x.deleted = 0 LIMIT ?3)) END,
	CASE WHEN m.user_name IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM (SELECT 1 FROM mentions n
		WHERE n.name_key = ?2 AND n.room = r.name AND n.seq > m.last_read LIMIT ?3)) END`

// SetReadMarker moves user's marker in room forward to offset (at most
// the head).
func (s *SQLite) SetReadMarker(ctx context.Context, room, user string, offset int64) (int64, bool, error) {
	var marker int64
	var moved bool
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var head int64
		if err := tx.QueryRowContext(ctx, `SELECT m.last_read, r.head FROM memberships m JOIN rooms r ON r.name = m.room
			WHERE m.room = ? AND m.user_name = ?`, room, user).Scan(&marker, &head); err != nil {
			return sqliteErr(err)
		}
		target := min(offset, head)
		if target <= marker {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE memberships SET last_read = ? WHERE room = ? AND user_name = ?`,
			target, room, user); err != nil {
			return sqliteErr(err)
		}
		marker, moved = target, true
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("set read marker of %s in %q: %w", user, room, err)
	}
	return marker, moved, nil
}

// sqliteInsertMentions records whom m mentions.
func sqliteInsertMentions(ctx context.Context, tx *sql.Tx, m Message) error {
	for _, key := range mentionKeys(m) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mentions (name_key, room, seq) VALUES (?, ?, ?)`,
			key, m.Room, m.Offset); err != nil {
			return fmt.Errorf("record mention: %w", sqliteErr(err))
		}
	}
	return nil
}

// mentionKeys returns the name keys m mentions, except its author's.
// Only a message mentions: an edit event does not (the edited message
// keeps the mentions it was sent with; a deletion drops them).
func mentionKeys(m Message) []string {
	if m.Kind != "" {
		return nil
	}
	keys := protocol.Mentioned(m.Body)
	author := nameKey(m.Author)
	out := keys[:0]
	for _, k := range keys {
		if k != author {
			out = append(out, k)
		}
	}
	return out
}
