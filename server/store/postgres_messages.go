package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley/shared/protocol"
)

const pgMessageColumns = `room, seq, author, body, cid, ts, kind, target, edited, deleted, reacted`

// pgAppendSQL advances the room's head and inserts the message under it in
// one statement, hence one transaction: the UPDATE holds the room row's
// lock until commit, which serialises appends to a room across all nodes,
// and a statement that fails (such as on a duplicate cid) rolls the head
// back, so offsets have no gaps. A message whose author already stored its
// cid inserts nothing; a concurrent twin that slips past that check trips
// the unique index instead. Timestamps come from the database's clock, the
// one clock all nodes share.
const pgAppendSQL = `
WITH h AS (
	UPDATE rooms SET head = head + 1
	WHERE name = $1
	  AND NOT EXISTS (SELECT 1 FROM messages WHERE author = $2 AND cid = $4 AND cid <> '')
	RETURNING head
)
, i AS (
	INSERT INTO messages (room, seq, author, body, cid, ts, kind)
	SELECT $1, h.head, $2, $3, $4, date_trunc('milliseconds', clock_timestamp()), $6 FROM h
	RETURNING seq, ts
), n AS (
	INSERT INTO mentions (name_key, room, seq) SELECT k, $1, i.seq FROM i, unnest($5::text[]) AS k
)
SELECT seq, ts FROM i`

// pgAmendSQL stores an edit or deletion under the room's next offset,
// inside Amend's transaction (which already holds the target's row lock).
const pgAmendSQL = `
WITH h AS (UPDATE rooms SET head = head + 1 WHERE name = $1 RETURNING head)
INSERT INTO messages (room, seq, author, body, cid, ts, kind, target)
SELECT $1, h.head, $2, $3, $4, date_trunc('milliseconds', clock_timestamp()), $5, $6 FROM h
RETURNING seq, ts`

func pgScanMessage(row pgx.Row) (Message, error) {
	var m Message
	if err := row.Scan(&m.Room, &m.Offset, &m.Author, &m.Body, &m.CID, &m.TS, &m.Kind, &m.Target, &m.Edited, &m.Deleted, &m.Reacted); err != nil {
		return Message{}, pgErr(err)
	}
	m.TS = m.TS.UTC()
	return m, nil
}

// Append stores m under the room's next offset, or returns the message
// its author already stored with the same CID (dup=true, no offset used).
func (p *Postgres) Append(ctx context.Context, m Message) (Message, bool, error) {
	stored, dup, err := p.append(ctx, m)
	if err != nil {
		return Message{}, false, fmt.Errorf("append message to %q: %w", m.Room, err)
	}
	return stored, dup, nil
}

func (p *Postgres) append(ctx context.Context, m Message) (Message, bool, error) {
	m.Kind, m.Target = appendKind(m.Kind), 0
	err := p.pool.QueryRow(ctx, pgAppendSQL, m.Room, m.Author, m.Body, m.CID, mentionKeys(m), m.Kind).Scan(&m.Offset, &m.TS)
	switch {
	case err == nil:
		m.TS = m.TS.UTC()
		return m, false, nil
	case errors.Is(err, pgx.ErrNoRows):
		// Either the cid is taken or the room does not exist.
		return p.original(ctx, m)
	case isUniqueViolation(err, "messages_author_cid"):
		return p.original(ctx, m)
	default:
		return Message{}, false, pgErr(err)
	}
}

// pgAppendTries bounds AppendAll's tries when a twin of one of its
// messages (same author and cid, from another node) commits between the
// batch's cid check and its insert: the unique index aborts the batch,
// and the next try finds the twin stored.
const pgAppendTries = 3

// AppendAll stores ms as Append would one by one, in one transaction and
// one round trip: the statements go as one pipeline (pgx.Batch) with one
// Sync, which PostgreSQL runs as one implicit transaction, so the first
// statement's lock on the room's row holds until all are stored, and a
// failing one rolls them all back (see Store.AppendAll).
func (p *Postgres) AppendAll(ctx context.Context, ms []Message) ([]Appended, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	if err := oneRoom(ms); err != nil {
		return nil, err
	}
	var out []Appended
	var err error
	for range pgAppendTries {
		if out, err = p.appendAll(ctx, ms); !isUniqueViolation(err, "messages_author_cid") {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("append %d messages to %q: %w", len(ms), ms[0].Room, pgErr(err))
	}
	return out, nil
}

func (p *Postgres) appendAll(ctx context.Context, ms []Message) ([]Appended, error) {
	b := &pgx.Batch{}
	out := make([]Appended, len(ms))
	for i, m := range ms {
		m.Kind, m.Target = appendKind(m.Kind), 0
		out[i].Message = m
		b.Queue(pgAppendSQL, m.Room, m.Author, m.Body, m.CID, mentionKeys(m), m.Kind)
	}
	br := p.pool.SendBatch(ctx, b)
	var missing []int // not inserted: a stored cid, or no such room
	for i := range out {
		m := &out[i].Message
		err := br.QueryRow().Scan(&m.Offset, &m.TS)
		switch {
		case err == nil:
			m.TS = m.TS.UTC()
		case errors.Is(err, pgx.ErrNoRows):
			missing = append(missing, i)
		default:
			_ = br.Close()
			return nil, err
		}
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		if err := p.originals(ctx, out, missing); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// originals fills out[i] for each i of missing with the message its
// author stored earlier under its cid (Dup), in one query; ErrNotFound
// when one has none and the room does not exist. Nothing of the batch
// was stored then: a batch is for one room.
func (p *Postgres) originals(ctx context.Context, out []Appended, missing []int) error {
	authors, cids := make([]string, 0, len(missing)), make([]string, 0, len(missing))
	for _, i := range missing {
		authors, cids = append(authors, out[i].Author), append(cids, out[i].CID)
	}
	rows, err := p.pool.Query(ctx, `SELECT `+pgMessageColumns+` FROM messages
		WHERE (author, cid) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND cid <> ''`, authors, cids)
	if err != nil {
		return fmt.Errorf("look up cids: %w", pgErr(err))
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Message, error) { return pgScanMessage(row) })
	if err != nil {
		return fmt.Errorf("look up cids: %w", err)
	}
	type key struct{ author, cid string }
	byKey := make(map[key]Message, len(found))
	for _, m := range found {
		byKey[key{m.Author, m.CID}] = m
	}
	for _, i := range missing {
		orig, ok := byKey[key{out[i].Author, out[i].CID}]
		if !ok {
			if err := p.roomExists(ctx, out[i].Room); err != nil {
				return err
			}
			return errors.New("message neither stored nor found")
		}
		out[i] = Appended{Message: orig, Dup: true}
	}
	return nil
}

// original returns the message m.Author stored earlier under m.CID, or
// ErrNotFound if m's room does not exist.
func (p *Postgres) original(ctx context.Context, m Message) (Message, bool, error) {
	if m.CID != "" {
		orig, err := pgScanMessage(p.pool.QueryRow(ctx,
			`SELECT `+pgMessageColumns+` FROM messages WHERE author = $1 AND cid = $2 AND cid <> ''`,
			m.Author, m.CID))
		if err == nil {
			return orig, true, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return Message{}, false, fmt.Errorf("look up cid: %w", err)
		}
	}
	if err := p.roomExists(ctx, m.Room); err != nil {
		return Message{}, false, err
	}
	return Message{}, false, errors.New("message neither stored nor found")
}

// History returns the page p of room's history in ascending offset order;
// ErrNotFound if the room does not exist.
func (p *Postgres) History(ctx context.Context, room string, pg Page) ([]Message, error) {
	query, bound, newestFirst := pgHistoryQuery(pg)
	rows, err := p.pool.Query(ctx, query, room, bound, pg.limit())
	if err != nil {
		return nil, fmt.Errorf("read history of %q: %w", room, pgErr(err))
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Message, error) { return pgScanMessage(row) })
	if err != nil {
		return nil, fmt.Errorf("read history of %q: %w", room, pgErr(err))
	}
	if len(msgs) == 0 {
		if err := p.roomExists(ctx, room); err != nil {
			return nil, fmt.Errorf("read history of %q: %w", room, err)
		}
		return nil, nil
	}
	if newestFirst {
		reverse(msgs)
	}
	if err := p.attachReactions(ctx, room, msgs); err != nil {
		return nil, fmt.Errorf("read history of %q: %w", room, err)
	}
	return msgs, nil
}

// attachReactions reads the reactions of msgs (ascending, not empty).
func (p *Postgres) attachReactions(ctx context.Context, room string, msgs []Message) error {
	lo, hi := messageSpan(msgs)
	rows, err := p.pool.Query(ctx, `SELECT target, emoji, user_name FROM reactions
		WHERE room = $1 AND target BETWEEN $2 AND $3 ORDER BY target, user_name COLLATE "C"`, room, lo, hi)
	if err != nil {
		return fmt.Errorf("read reactions: %w", pgErr(err))
	}
	rs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (reactionRow, error) {
		var r reactionRow
		err := row.Scan(&r.target, &r.emoji, &r.user)
		return r, err
	})
	if err != nil {
		return fmt.Errorf("read reactions: %w", pgErr(err))
	}
	attachReactions(msgs, rs)
	return nil
}

// pgHistoryQuery returns the query selecting page pg (arguments: room,
// offset bound, limit) and whether it yields rows newest first.
func pgHistoryQuery(pg Page) (query string, bound int64, newestFirst bool) {
	const sel = `SELECT ` + pgMessageColumns + ` FROM messages WHERE room = $1 `
	switch {
	case pg.Before > 0:
		return sel + `AND seq < $2 ORDER BY seq DESC LIMIT $3`, pg.Before, true
	case pg.Newest:
		return sel + `AND seq > $2 ORDER BY seq DESC LIMIT $3`, 0, true
	default:
		return sel + `AND seq > $2 ORDER BY seq ASC LIMIT $3`, pg.After, false
	}
}

// Amend stores an edit or deletion and brings its target to its latest
// state, in one transaction (see Store.Amend). The target's row is locked
// first, so edits and deletions of one message from many nodes take
// turns and an edit never lands after a deletion.
func (p *Postgres) Amend(ctx context.Context, e Message, moderator bool) (Message, bool, error) {
	if err := checkAmendKind(e); err != nil {
		return Message{}, false, err
	}
	stored, dup, err := p.amend(ctx, e, moderator)
	if isUniqueViolation(err, "messages_author_cid") {
		// A twin with the same cid committed first.
		stored, dup, err = p.amend(ctx, e, moderator)
	}
	if err != nil {
		return Message{}, false, fmt.Errorf("%s message %d in %q: %w", e.Kind, e.Target, e.Room, err)
	}
	return stored, dup, nil
}

func (p *Postgres) amend(ctx context.Context, e Message, moderator bool) (stored Message, dup bool, err error) {
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		target, orig, err := pgAmendTarget(ctx, tx, e)
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
		if err := tx.QueryRow(ctx, pgAmendSQL, e.Room, e.Author, e.Body, e.CID, e.Kind, e.Target).Scan(&e.Offset, &e.TS); err != nil {
			return err
		}
		e.TS = e.TS.UTC()
		stored = e
		return pgApplyAmend(ctx, tx, e)
	})
	if err != nil && !isUniqueViolation(err, "messages_author_cid") {
		err = pgErr(err)
	}
	return stored, dup, err
}

// pgAmendTarget reads, locked, the message an edit, deletion or reaction
// e refers to, unless e's cid is stored already: then orig is what it
// stored (a repeat), and target is not needed.
func pgAmendTarget(ctx context.Context, tx pgx.Tx, e Message) (target Message, orig *Message, err error) {
	target, err = pgScanMessage(tx.QueryRow(ctx,
		`SELECT `+pgMessageColumns+` FROM messages WHERE room = $1 AND seq = $2 FOR UPDATE`, e.Room, e.Target))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Message{}, nil, fmt.Errorf("read message %d: %w", e.Target, err)
	}
	prev, oerr := pgScanMessage(tx.QueryRow(ctx,
		`SELECT `+pgMessageColumns+` FROM messages WHERE author = $1 AND cid = $2 AND cid <> ''`, e.Author, e.CID))
	switch {
	case oerr == nil:
		return Message{}, &prev, nil
	case !errors.Is(oerr, ErrNotFound):
		return Message{}, nil, fmt.Errorf("look up cid: %w", oerr)
	case err != nil:
		return Message{}, nil, fmt.Errorf("read message %d: %w", e.Target, err)
	}
	return target, nil, nil
}

// pgApplyAmend brings e's target, and the edits before e, to the state e
// leaves them in.
func pgApplyAmend(ctx context.Context, tx pgx.Tx, e Message) error {
	var err error
	if e.Kind == protocol.MsgEdit {
		_, err = tx.Exec(ctx, `UPDATE messages SET body = $1, edited = $2 WHERE room = $3 AND seq = $4`, e.Body, e.Offset, e.Room, e.Target)
	} else {
		_, err = tx.Exec(ctx, `UPDATE messages SET body = '', deleted = true WHERE room = $1 AND seq = $2`, e.Room, e.Target)
		if err == nil {
			_, err = tx.Exec(ctx, `DELETE FROM mentions WHERE room = $1 AND seq = $2`, e.Room, e.Target)
		}
		if err == nil {
			_, err = tx.Exec(ctx, `DELETE FROM reactions WHERE room = $1 AND target = $2`, e.Room, e.Target)
		}
	}
	if err != nil {
		return fmt.Errorf("update message %d: %w", e.Target, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE messages SET body = $1 WHERE room = $2 AND target = $3 AND kind = $4 AND seq < $5`,
		e.Body, e.Room, e.Target, protocol.MsgEdit, e.Offset); err != nil {
		return fmt.Errorf("update edits of message %d: %w", e.Target, err)
	}
	return nil
}
