package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parleychat/parley/shared/protocol"
)

const sqliteRoomColumns = `name, epoch, head, created_by, created_at, kind, topic, roster`

type sqliteRow interface {
	Scan(dest ...any) error
}

func sqliteScanRoom(row sqliteRow) (Room, error) {
	var r Room
	var created int64
	if err := row.Scan(&r.Name, &r.Epoch, &r.Head, &r.CreatedBy, &created, &r.Kind, &r.Topic, &r.Roster); err != nil {
		return Room{}, sqliteErr(err)
	}
	r.CreatedAt = fromMillis(created)
	return r, nil
}

// CreateRoom creates an empty room with a fresh epoch; ErrConflict if it
// exists.
func (s *SQLite) CreateRoom(ctx context.Context, name, createdBy string) (Room, error) {
	r := Room{Name: name, Epoch: newEpoch(), CreatedBy: createdBy, CreatedAt: now(), Kind: protocol.KindPublic}
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO rooms (name, epoch, head, created_by, created_at) VALUES (?, ?, 0, ?, ?)`,
		r.Name, r.Epoch, r.CreatedBy, r.CreatedAt.UnixMilli())
	if err != nil {
		return Room{}, fmt.Errorf("create room %q: %w", name, sqliteErr(err))
	}
	return r, nil
}

// EnsureRoom returns the room, creating it (with no creator) if missing.
func (s *SQLite) EnsureRoom(ctx context.Context, name string) (Room, error) {
	var r Room
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO rooms (name, epoch, head, created_by, created_at) VALUES (?, ?, 0, '', ?)
			 ON CONFLICT (name) DO NOTHING`,
			name, newEpoch(), now().UnixMilli())
		if err != nil {
			return sqliteErr(err)
		}
		r, err = sqliteScanRoom(tx.QueryRowContext(ctx,
			`SELECT `+sqliteRoomColumns+` FROM rooms WHERE name = ?`, name))
		return err
	})
	if err != nil {
		return Room{}, fmt.Errorf("ensure room %q: %w", name, err)
	}
	return r, nil
}

// Room returns one room, its Head current.
func (s *SQLite) Room(ctx context.Context, name string) (Room, error) {
	r, err := sqliteScanRoom(s.r.QueryRowContext(ctx,
		`SELECT `+sqliteRoomColumns+` FROM rooms WHERE name = ?`, name))
	if err != nil {
		return Room{}, fmt.Errorf("find room %q: %w", name, err)
	}
	return r, nil
}

// Rooms returns every room, ordered by name.
func (s *SQLite) Rooms(ctx context.Context) ([]Room, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sqliteRoomColumns+` FROM rooms ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", sqliteErr(err))
	}
	defer rows.Close()
	var rooms []Room
	for rows.Next() {
		r, err := sqliteScanRoom(rows)
		if err != nil {
			return nil, fmt.Errorf("list rooms: %w", err)
		}
		rooms = append(rooms, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list rooms: %w", sqliteErr(err))
	}
	return rooms, nil
}

// Join makes user a member of a public room (see Store.Join).
func (s *SQLite) Join(ctx context.Context, room, user string) (bool, error) {
	var joined bool
	err := s.writeTx(ctx, func(tx *sql.Tx) (err error) {
		joined, err = sqliteJoin(ctx, tx, room, user)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("join room %q: %w", room, err)
	}
	return joined, nil
}

// sqliteJoin is Join in tx; it reports whether it added the membership.
func sqliteJoin(ctx context.Context, tx *sql.Tx, room, user string) (bool, error) {
	a, err := sqliteAccess(ctx, tx, room, user)
	if err != nil {
		return false, err
	}
	if insert, err := joinVerdict(a); !insert {
		return false, err
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO memberships (room, user_name, joined_at, role) VALUES (?, ?, ?, 'member')`,
		room, user, now().UnixMilli())
	if err != nil {
		return false, sqliteErr(err)
	}
	return true, nil
}

// Members returns the names of room's members, sorted.
func (s *SQLite) Members(ctx context.Context, room string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT user_name FROM memberships WHERE room = ? ORDER BY user_name`, room)
	if err != nil {
		return nil, fmt.Errorf("list members of %q: %w", room, sqliteErr(err))
	}
	defer rows.Close()
	var members []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, fmt.Errorf("list members of %q: %w", room, sqliteErr(err))
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list members of %q: %w", room, sqliteErr(err))
	}
	if len(members) == 0 {
		if err := s.roomExists(ctx, room); err != nil {
			return nil, fmt.Errorf("list members of %q: %w", room, err)
		}
	}
	return members, nil
}

// roomExists returns nil if room exists, else an ErrNotFound error.
func (s *SQLite) roomExists(ctx context.Context, room string) error {
	var one int
	return sqliteErr(s.r.QueryRowContext(ctx, `SELECT 1 FROM rooms WHERE name = ?`, room).Scan(&one))
}
