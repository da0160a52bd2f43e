package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parleychat/parley/shared/protocol"
)

// React stores a reaction event and adds or removes the reaction, in one
// transaction (see Store.React).
func (s *SQLite) React(ctx context.Context, e Message) (Message, bool, error) {
	if err := checkReact(e); err != nil {
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
		if err := reactVerdict(target); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM reactions WHERE room = ? AND target = ? AND emoji = ? AND user_key = ?`,
			e.Room, e.Target, e.Body, nameKey(e.Author)).Scan(&n); err != nil {
			return fmt.Errorf("read reaction: %w", sqliteErr(err))
		}
		if (n > 0) == (e.Kind == protocol.MsgReact) {
			stored, dup = reactNoop(e), true
			return nil
		}
		if stored, err = sqliteInsertMessage(ctx, tx, e); err != nil {
			return err
		}
		return sqliteApplyReact(ctx, tx, stored)
	})
	if err != nil {
		return Message{}, false, fmt.Errorf("%s %q on message %d in %q: %w", e.Kind, e.Body, e.Target, e.Room, err)
	}
	return stored, dup, nil
}

// sqliteApplyReact adds or removes the reaction e stored and records e as
// its target's latest reaction event.
func sqliteApplyReact(ctx context.Context, tx *sql.Tx, e Message) error {
	var err error
	if e.Kind == protocol.MsgReact {
		_, err = tx.ExecContext(ctx, `INSERT INTO reactions (room, target, emoji, user_key, user_name) VALUES (?, ?, ?, ?, ?)`,
			e.Room, e.Target, e.Body, nameKey(e.Author), e.Author)
	} else {
		_, err = tx.ExecContext(ctx, `DELETE FROM reactions WHERE room = ? AND target = ? AND emoji = ? AND user_key = ?`,
			e.Room, e.Target, e.Body, nameKey(e.Author))
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `UPDATE messages SET reacted = ? WHERE room = ? AND seq = ?`, e.Offset, e.Room, e.Target)
	}
	if err != nil {
		return fmt.Errorf("apply reaction to message %d: %w", e.Target, sqliteErr(err))
	}
	return nil
}
