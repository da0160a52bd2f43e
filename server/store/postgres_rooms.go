package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley/shared/protocol"
)

const pgRoomColumns = `name, epoch, head, created_by, created_at, kind, topic, roster`

func pgScanRoom(row pgx.Row) (Room, error) {
	var r Room
	if err := row.Scan(&r.Name, &r.Epoch, &r.Head, &r.CreatedBy, &r.CreatedAt, &r.Kind, &r.Topic, &r.Roster); err != nil {
		return Room{}, pgErr(err)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return r, nil
}

// CreateRoom creates an empty room with a fresh epoch; ErrConflict if it
// exists.
func (p *Postgres) CreateRoom(ctx context.Context, name, createdBy string) (Room, error) {
	r := Room{Name: name, Epoch: newEpoch(), CreatedBy: createdBy, CreatedAt: now(), Kind: protocol.KindPublic}
	_, err := p.pool.Exec(ctx,
		`INSERT INTO rooms (name, epoch, head, created_by, created_at) VALUES ($1, $2, 0, $3, $4)`,
		r.Name, r.Epoch, r.CreatedBy, r.CreatedAt)
	if err != nil {
		return Room{}, fmt.Errorf("create room %q: %w", name, pgErr(err))
	}
	return r, nil
}

// EnsureRoom returns the room, creating it (with no creator) if missing.
func (p *Postgres) EnsureRoom(ctx context.Context, name string) (Room, error) {
	_, err := p.pool.Exec(ctx,
		`INSERT INTO rooms (name, epoch, head, created_by, created_at) VALUES ($1, $2, 0, '', $3)
		 ON CONFLICT (name) DO NOTHING`,
		name, newEpoch(), now())
	if err != nil {
		return Room{}, fmt.Errorf("ensure room %q: %w", name, pgErr(err))
	}
	// A separate statement, so its snapshot includes a row that a
	// concurrent EnsureRoom committed just before the insert above.
	r, err := p.Room(ctx, name)
	if err != nil {
		return Room{}, fmt.Errorf("ensure room %q: %w", name, err)
	}
	return r, nil
}

// Room returns one room, its Head current.
func (p *Postgres) Room(ctx context.Context, name string) (Room, error) {
	r, err := pgScanRoom(p.pool.QueryRow(ctx, `SELECT `+pgRoomColumns+` FROM rooms WHERE name = $1`, name))
	if err != nil {
		return Room{}, fmt.Errorf("find room %q: %w", name, err)
	}
	return r, nil
}

// Rooms returns every room, ordered by name.
func (p *Postgres) Rooms(ctx context.Context) ([]Room, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+pgRoomColumns+` FROM rooms ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", pgErr(err))
	}
	rooms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Room, error) { return pgScanRoom(row) })
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", pgErr(err))
	}
	return rooms, nil
}

// Join makes user a member of a public room (see Store.Join).
func (p *Postgres) Join(ctx context.Context, room, user string) (bool, error) {
	var joined bool
	err := p.tx(ctx, func(tx pgx.Tx) error {
		a, err := pgAccess(ctx, tx, room, user, true)
		if err != nil {
			return err
		}
		if insert, err := joinVerdict(a); !insert {
			return err
		}
		tag, err := tx.Exec(ctx,
			`INSERT INTO memberships (room, user_name, joined_at, role) VALUES ($1, $2, $3, 'member')
			 ON CONFLICT (room, user_name) DO NOTHING`,
			room, user, now())
		joined = err == nil && tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("join room %q: %w", room, pgErr(err))
	}
	return joined, nil
}

// Members returns the names of room's members, sorted.
func (p *Postgres) Members(ctx context.Context, room string) ([]string, error) {
	rows, err := p.pool.Query(ctx,
		`SELECT user_name FROM memberships WHERE room = $1 ORDER BY user_name`, room)
	if err != nil {
		return nil, fmt.Errorf("list members of %q: %w", room, pgErr(err))
	}
	members, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list members of %q: %w", room, pgErr(err))
	}
	if len(members) == 0 {
		if err := p.roomExists(ctx, room); err != nil {
			return nil, fmt.Errorf("list members of %q: %w", room, err)
		}
		return nil, nil
	}
	return members, nil
}

// roomExists returns nil if room exists, else an ErrNotFound error.
func (p *Postgres) roomExists(ctx context.Context, room string) error {
	var one int
	return pgErr(p.pool.QueryRow(ctx, `SELECT 1 FROM rooms WHERE name = $1`, room).Scan(&one))
}
