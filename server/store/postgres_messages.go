package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

const pgMessageColumns = `room, seq, author, body, cid, ts`

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
	INSERT INTO messages (` + pgMessageColumns + `)
	SELECT $1, h.head, $2, $3, $4, date_trunc('milliseconds', clock_timestamp()) FROM h
	RETURNING seq, ts
), n AS (
	INSERT INTO mentions (name_key, room, seq) SELECT k, $1, i.seq FROM i, unnest($5::text[]) AS k
)
SELECT seq, ts FROM i`

func pgScanMessage(row pgx.Row) (Message, error) {
	var m Message
	if err := row.Scan(&m.Room, &m.Offset, &m.Author, &m.Body, &m.CID, &m.TS); err != nil {
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
	err := p.pool.QueryRow(ctx, pgAppendSQL, m.Room, m.Author, m.Body, m.CID, mentionKeys(m)).Scan(&m.Offset, &m.TS)
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
	return msgs, nil
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
