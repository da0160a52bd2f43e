package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley/shared/protocol"
)

// React stores a reaction event and adds or removes the reaction, in one
// transaction (see Store.React). The target's row is locked first, so
// reactions to one message from many nodes take turns, and none lands
// after its deletion.
func (p *Postgres) React(ctx context.Context, e Message) (Message, bool, error) {
	if err := checkReact(e); err != nil {
		return Message{}, false, err
	}
	stored, dup, err := p.react(ctx, e)
	if isUniqueViolation(err, "messages_author_cid") {
		// A twin with the same cid committed first.
		stored, dup, err = p.react(ctx, e)
	}
	if err != nil {
		return Message{}, false, fmt.Errorf("%s %q on message %d in %q: %w", e.Kind, e.Body, e.Target, e.Room, err)
	}
	return stored, dup, nil
}

func (p *Postgres) react(ctx context.Context, e Message) (stored Message, dup bool, err error) {
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		target, orig, err := pgAmendTarget(ctx, tx, e)
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
		var has bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reactions WHERE room = $1 AND target = $2 AND emoji = $3 AND user_key = $4)`,
			e.Room, e.Target, e.Body, nameKey(e.Author)).Scan(&has); err != nil {
			return fmt.Errorf("read reaction: %w", err)
		}
		if has == (e.Kind == protocol.MsgReact) {
			stored, dup = reactNoop(e), true
			return nil
		}
		if err := tx.QueryRow(ctx, pgAmendSQL, e.Room, e.Author, e.Body, e.CID, e.Kind, e.Target).Scan(&e.Offset, &e.TS); err != nil {
			return err
		}
		e.TS = e.TS.UTC()
		stored = e
		return pgApplyReact(ctx, tx, e)
	})
	if err != nil && !isUniqueViolation(err, "messages_author_cid") {
		err = pgErr(err)
	}
	return stored, dup, err
}

// pgApplyReact adds or removes the reaction e stored and records e as its
// target's latest reaction event.
func pgApplyReact(ctx context.Context, tx pgx.Tx, e Message) error {
	var err error
	if e.Kind == protocol.MsgReact {
		_, err = tx.Exec(ctx, `INSERT INTO reactions (room, target, emoji, user_key, user_name) VALUES ($1, $2, $3, $4, $5)`,
			e.Room, e.Target, e.Body, nameKey(e.Author), e.Author)
	} else {
		_, err = tx.Exec(ctx, `DELETE FROM reactions WHERE room = $1 AND target = $2 AND emoji = $3 AND user_key = $4`,
			e.Room, e.Target, e.Body, nameKey(e.Author))
	}
	if err == nil {
		_, err = tx.Exec(ctx, `UPDATE messages SET reacted = $1 WHERE room = $2 AND seq = $3`, e.Offset, e.Room, e.Target)
	}
	if err != nil {
		return fmt.Errorf("apply reaction to message %d: %w", e.Target, err)
	}
	return nil
}
