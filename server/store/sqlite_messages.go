package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleychat/parley/shared/protocol"
)

const sqliteMessageColumns = `room, seq, author, body, cid, ts, kind, target, edited, deleted, reacted`

func sqliteScanMessage(row sqliteRow) (Message, error) {
	var m Message
	var ts int64
	if err := row.Scan(&m.Room, &m.Offset, &m.Author, &m.Body, &m.CID, &ts, &m.Kind, &m.Target, &m.Edited, &m.Deleted, &m.Reacted); err != nil {
		return Message{}, sqliteErr(err)
	}
	m.TS = fromMillis(ts)
	return m, nil
}

// Append stores m under the room's next offset, or returns the message
// its author already stored with the same CID (dup=true, no offset used).
func (s *SQLite) Append(ctx context.Context, m Message) (Message, bool, error) {
	var stored Message
	var dup bool
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		stored, dup, err = sqliteAppend(ctx, tx, m)
		return err
	})
	if err != nil {
		return Message{}, false, fmt.Errorf("append message to %q: %w", m.Room, err)
	}
	return stored, dup, nil
}

// AppendAll stores ms as Append would one by one, in one transaction
// (see Store.AppendAll).
func (s *SQLite) AppendAll(ctx context.Context, ms []Message) ([]Appended, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	if err := oneRoom(ms); err != nil {
		return nil, err
	}
	out := make([]Appended, len(ms))
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		for i, m := range ms {
			stored, dup, err := sqliteAppend(ctx, tx, m)
			if err != nil {
				return err
			}
			out[i] = Appended{Message: stored, Dup: dup}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("append %d messages to %q: %w", len(ms), ms[0].Room, err)
	}
	return out, nil
}

// sqliteAppend is Append inside tx.
func sqliteAppend(ctx context.Context, tx *sql.Tx, m Message) (Message, bool, error) {
	if m.CID != "" {
		stored, err := sqliteScanMessage(tx.QueryRowContext(ctx,
			`SELECT `+sqliteMessageColumns+` FROM messages WHERE author = ? AND cid = ? AND cid <> ''`, m.Author, m.CID))
		if err == nil {
			return stored, true, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return Message{}, false, fmt.Errorf("look up cid: %w", err)
		}
	}
	m.Kind, m.Target = appendKind(m.Kind), 0
	stored, err := sqliteInsertMessage(ctx, tx, m)
	return stored, false, err
}

// sqliteAmendTarget reads the message an edit, deletion or reaction e
// refers to, unless e's cid is stored already: then orig is what it
// stored (a repeat), and target is not read.
func sqliteAmendTarget(ctx context.Context, tx *sql.Tx, e Message) (target Message, orig *Message, err error) {
	prev, err := sqliteScanMessage(tx.QueryRowContext(ctx,
		`SELECT `+sqliteMessageColumns+` FROM messages WHERE author = ? AND cid = ? AND cid <> ''`, e.Author, e.CID))
	switch {
	case err == nil:
		return Message{}, &prev, nil
	case !errors.Is(err, ErrNotFound):
		return Message{}, nil, fmt.Errorf("look up cid: %w", err)
	}
	target, err = sqliteScanMessage(tx.QueryRowContext(ctx,
		`SELECT `+sqliteMessageColumns+` FROM messages WHERE room = ? AND seq = ?`, e.Room, e.Target))
	if err != nil {
		return Message{}, nil, fmt.Errorf("read message %d: %w", e.Target, err)
	}
	return target, nil, nil
}

// Amend stores an edit or deletion and brings its target to its latest
// state, in one transaction (see Store.Amend).
func (s *SQLite) Amend(ctx context.Context, e Message, moderator bool) (Message, bool, error) {
	if err := checkAmendKind(e); err != nil {
		return Message{}, false, err
	}
	var stored Message
	var dup bool
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		target, orig, err := sqliteAmendTarget(ctx, tx, e)
		if err != nil {
			return err
		}
		if orig != nil {
			stored, dup = *orig, true
			return amendDup(*orig, e)
		}
		if err := amendVerdict(target, e, moderator); err != nil {
			return err
		}
		if e.Kind == protocol.MsgDelete {
			e.Body = ""
		}
		if stored, err = sqliteInsertMessage(ctx, tx, e); err != nil {
			return err
		}
		return sqliteApplyAmend(ctx, tx, stored)
	})
	if err != nil {
		return Message{}, false, fmt.Errorf("%s message %d in %q: %w", e.Kind, e.Target, e.Room, err)
	}
	return stored, dup, nil
}

// sqliteApplyAmend brings e's target, and the edits before e, to the
// state e leaves them in.
func sqliteApplyAmend(ctx context.Context, tx *sql.Tx, e Message) error {
	var err error
	if e.Kind == protocol.MsgEdit {
		_, err = tx.ExecContext(ctx, `UPDATE messages SET body = ?, edited = ? WHERE room = ? AND seq = ?`, e.Body, e.Offset, e.Room, e.Target)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE messages SET body = '', deleted = 1 WHERE room = ? AND seq = ?`, e.Room, e.Target)
		if err == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM mentions WHERE room = ? AND seq = ?`, e.Room, e.Target)
		}
		if err == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM reactions WHERE room = ? AND target = ?`, e.Room, e.Target)
		}
	}
	if err != nil {
		return fmt.Errorf("update message %d: %w", e.Target, sqliteErr(err))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET body = ? WHERE room = ? AND target = ? AND kind = ? AND seq < ?`,
		e.Body, e.Room, e.Target, protocol.MsgEdit, e.Offset); err != nil {
		return fmt.Errorf("update edits of message %d: %w", e.Target, sqliteErr(err))
	}
	return nil
}

// sqliteInsertMessage advances the room's head and stores m under it.
func sqliteInsertMessage(ctx context.Context, tx *sql.Tx, m Message) (Message, error) {
	if err := tx.QueryRowContext(ctx,
		`UPDATE rooms SET head = head + 1 WHERE name = ? RETURNING head`, m.Room).Scan(&m.Offset); err != nil {
		return Message{}, fmt.Errorf("advance head: %w", sqliteErr(err))
	}
	m.TS = now()
	_, err := tx.ExecContext(ctx,
		`INSERT INTO messages (room, seq, author, body, cid, ts, kind, target) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Room, m.Offset, m.Author, m.Body, m.CID, m.TS.UnixMilli(), m.Kind, m.Target)
	if err != nil {
		return Message{}, fmt.Errorf("insert: %w", sqliteErr(err))
	}
	if err := sqliteInsertMentions(ctx, tx, m); err != nil {
		return Message{}, err
	}
	return m, nil
}

// History returns the page p of room's history in ascending offset order;
// ErrNotFound if the room does not exist.
func (s *SQLite) History(ctx context.Context, room string, p Page) ([]Message, error) {
	query, arg, newestFirst := sqliteHistoryQuery(p)
	msgs, err := s.queryMessages(ctx, query, room, arg, p.limit())
	if err != nil {
		return nil, fmt.Errorf("read history of %q: %w", room, err)
	}
	if len(msgs) == 0 {
		if err := s.roomExists(ctx, room); err != nil {
			return nil, fmt.Errorf("read history of %q: %w", room, err)
		}
	}
	if newestFirst {
		reverse(msgs)
	}
	if len(msgs) > 0 {
		if err := s.attachReactions(ctx, room, msgs); err != nil {
			return nil, fmt.Errorf("read history of %q: %w", room, err)
		}
	}
	return msgs, nil
}

// attachReactions reads the reactions of msgs (ascending, not empty).
func (s *SQLite) attachReactions(ctx context.Context, room string, msgs []Message) error {
	lo, hi := messageSpan(msgs)
	rows, err := s.r.QueryContext(ctx, `SELECT target, emoji, user_name FROM reactions
		WHERE room = ? AND target BETWEEN ? AND ? ORDER BY target, user_name`, room, lo, hi)
	if err != nil {
		return fmt.Errorf("read reactions: %w", sqliteErr(err))
	}
	defer rows.Close()
	var rs []reactionRow
	for rows.Next() {
		var r reactionRow
		if err := rows.Scan(&r.target, &r.emoji, &r.user); err != nil {
			return fmt.Errorf("read reactions: %w", sqliteErr(err))
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read reactions: %w", sqliteErr(err))
	}
	attachReactions(msgs, rs)
	return nil
}

// sqliteHistoryQuery returns the query selecting page p (arguments: room,
// offset bound, limit) and whether it yields rows newest first.
func sqliteHistoryQuery(p Page) (query string, bound int64, newestFirst bool) {
	const sel = `SELECT ` + sqliteMessageColumns + ` FROM messages WHERE room = ? `
	switch {
	case p.Before > 0:
		return sel + `AND seq < ? ORDER BY seq DESC LIMIT ?`, p.Before, true
	case p.Newest:
		return sel + `AND seq > ? ORDER BY seq DESC LIMIT ?`, 0, true
	default:
		return sel + `AND seq > ? ORDER BY seq ASC LIMIT ?`, p.After, false
	}
}

func (s *SQLite) queryMessages(ctx context.Context, query string, args ...any) ([]Message, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, sqliteErr(err)
	}
	defer rows.Close()
	var msgs []Message
	for rows.Next() {
		m, err := sqliteScanMessage(rows)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, sqliteErr(err)
	}
	return msgs, nil
}
