package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// pgUnreadColumns are RoomsOf's marker, unread and mention counts
// (arguments: $1 user, $2 their name key, $3 protocol.UnreadCap). Each
// count is an index range scan of at most UnreadCap entries per room the
// user is a member of: messages by their primary key (room, seq), with a
// heap visit per entry for the author; mentions by (name_key, room, seq),
// index only once vacuumed.
const pgUnreadColumns = `COALESCE(m.last_read, 0),
	CASE WHEN m.user_name IS NULL THEN 0 ELSE (SELECT count(*) FROM (SELECT 1 FROM messages x
		WHERE x.room = r.name AND x.seq > m.last_read AND x.author <> $1 AND x.kind = '' AND NOT x.deleted LIMIT $3) c) END,
	CASE WHEN m.user_name IS NULL THEN 0 ELSE (SELECT count(*) FROM (SELECT 1 FROM mentions n
		WHERE n.name_key = $2 AND n.room = r.name AND n.seq > m.last_read LIMIT $3) c) END`

// SetReadMarker moves user's marker in room forward to offset (at most
// the head), in one statement when it moves.
func (p *Postgres) SetReadMarker(ctx context.Context, room, user string, offset int64) (int64, bool, error) {
	var marker int64
	err := p.pool.QueryRow(ctx, `
UPDATE memberships m SET last_read = LEAST($3, r.head)
FROM rooms r
WHERE r.name = m.room AND m.room = $1 AND m.user_name = $2 AND m.last_read < LEAST($3, r.head)
RETURNING m.last_read`, room, user, offset).Scan(&marker)
	if err == nil {
		return marker, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, fmt.Errorf("set read marker of %s in %q: %w", user, room, pgErr(err))
	}
	err = p.pool.QueryRow(ctx, `SELECT last_read FROM memberships WHERE room = $1 AND user_name = $2`, room, user).Scan(&marker)
	if err != nil {
		return 0, false, fmt.Errorf("set read marker of %s in %q: %w", user, room, pgErr(err))
	}
	return marker, false, nil
}
