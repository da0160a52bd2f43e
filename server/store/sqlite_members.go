package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/parleychat/parley/shared/protocol"
)

// sqliteQuerier is what both *sql.DB and *sql.Tx offer for reads.
type sqliteQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// sqliteAccessSQL reads a room's kind, user's role (empty when not a member)
// and whether user is banned, in one statement.
const sqliteAccessSQL = `
SELECT r.kind,
	COALESCE((SELECT m.role FROM memberships m WHERE m.room = r.name AND m.user_name = ?2), ''),
	EXISTS (SELECT 1 FROM bans b WHERE b.room = r.name AND b.user_name = ?2)
FROM rooms r WHERE r.name = ?1`

func sqliteAccess(ctx context.Context, q sqliteQuerier, room, user string) (Access, error) {
	var a Access
	if err := q.QueryRowContext(ctx, sqliteAccessSQL, room, user).Scan(&a.Kind, &a.Role, &a.Banned); err != nil {
		return Access{}, sqliteErr(err)
	}
	return a, nil
}

// Access tells what user may do in room.
func (s *SQLite) Access(ctx context.Context, room, user string) (Access, error) {
	a, err := sqliteAccess(ctx, s.r, room, user)
	if err != nil {
		return Access{}, fmt.Errorf("read access of %q to %q: %w", user, room, err)
	}
	return a, nil
}

// CreateRoomOf creates a room of kind with owner as its owner.
func (s *SQLite) CreateRoomOf(ctx context.Context, name, kind, owner string) (Room, error) {
	r := Room{Name: name, Epoch: newEpoch(), CreatedBy: owner, CreatedAt: now(), Kind: kind}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		return sqliteInsertRoom(ctx, tx, r, protocol.RoleOwner, owners(owner)...)
	})
	if err != nil {
		return Room{}, fmt.Errorf("create %s room %q: %w", kind, name, err)
	}
	return r, nil
}

// sqliteInsertRoom inserts r and makes each of members a member of it
// with role.
func sqliteInsertRoom(ctx context.Context, tx *sql.Tx, r Room, role string, members ...string) error {
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO rooms (name, epoch, head, created_by, created_at, kind) VALUES (?, ?, 0, ?, ?, ?)`,
		r.Name, r.Epoch, r.CreatedBy, r.CreatedAt.UnixMilli(), r.Kind); err != nil {
		return sqliteErr(err)
	}
	for _, m := range members {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO memberships (room, user_name, joined_at, role) VALUES (?, ?, ?, ?)`,
			r.Name, m, r.CreatedAt.UnixMilli(), role); err != nil {
			return sqliteErr(err)
		}
	}
	return nil
}

// DirectRoom returns (creating it if needed) the direct room of caller
// and others.
func (s *SQLite) DirectRoom(ctx context.Context, caller string, others ...string) (Room, bool, error) {
	set, err := newDirectSet(caller, others)
	if err != nil {
		return Room{}, false, fmt.Errorf("direct room: %w", err)
	}
	var r Room
	var created bool
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		var name string
		err := tx.QueryRowContext(ctx, `SELECT room FROM direct_sets WHERE set_key = ?`, set.key).Scan(&name)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			r = Room{Name: directRoomName(), Epoch: newEpoch(), CreatedBy: caller, CreatedAt: now(), Kind: protocol.KindDirect}
			if err := sqliteInsertRoom(ctx, tx, r, protocol.RoleMember, set.users...); err != nil {
				return err
			}
			created = true
			_, err := tx.ExecContext(ctx, `INSERT INTO direct_sets (set_key, users, room) VALUES (?, ?, ?)`,
				set.key, strings.Join(set.users, " "), r.Name)
			return sqliteErr(err)
		case err != nil:
			return sqliteErr(err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO memberships (room, user_name, joined_at, role) VALUES (?, ?, ?, 'member')
			 ON CONFLICT (room, user_name) DO NOTHING`, name, caller, now().UnixMilli()); err != nil {
			return sqliteErr(err)
		}
		r, err = sqliteScanRoom(tx.QueryRowContext(ctx, `SELECT `+sqliteRoomColumns+` FROM rooms WHERE name = ?`, name))
		return err
	})
	if err != nil {
		return Room{}, false, fmt.Errorf("direct room of %s: %w", set, err)
	}
	return r, created, nil
}

// RoomsOf returns the rooms user may see.
func (s *SQLite) RoomsOf(ctx context.Context, user string) ([]MemberRoom, error) {
	rows, err := s.r.QueryContext(ctx, `
SELECT r.name, r.epoch, r.head, r.created_by, r.created_at, r.kind, r.topic, r.roster,
	COALESCE(m.role, ''),
	COALESCE(d.users, ''),
	`+sqliteUnreadColumns+`
FROM rooms r
LEFT JOIN memberships m ON m.room = r.name AND m.user_name = ?1
LEFT JOIN direct_sets d ON d.room = r.name
WHERE r.kind <> 'inbox' AND (m.user_name IS NOT NULL OR (r.kind = 'public' AND NOT EXISTS (SELECT 1 FROM bans b WHERE b.room = r.name AND b.user_name = ?1)))
ORDER BY r.name`, user, nameKey(user), protocol.UnreadCap)
	if err != nil {
		return nil, fmt.Errorf("list rooms of %s: %w", user, sqliteErr(err))
	}
	defer rows.Close()
	var out []MemberRoom
	for rows.Next() {
		var mr MemberRoom
		var created int64
		var users string
		if err := rows.Scan(&mr.Name, &mr.Epoch, &mr.Head, &mr.CreatedBy, &created, &mr.Kind, &mr.Topic, &mr.Roster, &mr.Role, &users,
			&mr.LastRead, &mr.Unread, &mr.Mentions); err != nil {
			return nil, fmt.Errorf("list rooms of %s: %w", user, sqliteErr(err))
		}
		mr.CreatedAt = fromMillis(created)
		mr.setPeers(users, user)
		out = append(out, mr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list rooms of %s: %w", user, sqliteErr(err))
	}
	return out, nil
}

// Roster returns room's members with their roles.
func (s *SQLite) Roster(ctx context.Context, room string) ([]Member, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT user_name, role, joined_at FROM memberships WHERE room = ? ORDER BY user_name`, room)
	if err != nil {
		return nil, fmt.Errorf("roster of %q: %w", room, sqliteErr(err))
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		var joined int64
		if err := rows.Scan(&m.User, &m.Role, &joined); err != nil {
			return nil, fmt.Errorf("roster of %q: %w", room, sqliteErr(err))
		}
		m.JoinedAt = fromMillis(joined)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("roster of %q: %w", room, sqliteErr(err))
	}
	if len(out) == 0 {
		if err := s.roomExists(ctx, room); err != nil {
			return nil, fmt.Errorf("roster of %q: %w", room, err)
		}
	}
	return out, nil
}

// AddMember adds user to room with role, unless banned.
func (s *SQLite) AddMember(ctx context.Context, room, user, role string) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		a, err := sqliteAccess(ctx, tx, room, user)
		if err != nil {
			return err
		}
		if insert, err := addVerdict(a); !insert {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO memberships (room, user_name, joined_at, role) VALUES (?, ?, ?, ?)`,
			room, user, now().UnixMilli(), role)
		return sqliteErr(err)
	})
	if err != nil {
		return fmt.Errorf("add %s to %q: %w", user, room, err)
	}
	return nil
}

// SetRole changes a member's role.
func (s *SQLite) SetRole(ctx context.Context, room, user, role string) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		return sqliteAffected(tx.ExecContext(ctx,
			`UPDATE memberships SET role = ? WHERE room = ? AND user_name = ?`, role, room, user))
	})
	if err != nil {
		return fmt.Errorf("set role of %s in %q: %w", user, room, err)
	}
	return nil
}

// RemoveMember kicks (and with ban, bans) user from room.
func (s *SQLite) RemoveMember(ctx context.Context, room, user string, ban bool) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := sqliteAffected(tx.ExecContext(ctx, `UPDATE rooms SET roster = roster + 1 WHERE name = ?`, room)); err != nil {
			return err
		}
		if ban {
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO bans (room, user_name, banned_at) VALUES (?, ?, ?) ON CONFLICT (room, user_name) DO NOTHING`,
				room, user, now().UnixMilli()); err != nil {
				return sqliteErr(err)
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE room = ? AND user_name = ?`, room, user)
			return sqliteErr(err)
		}
		return sqliteAffected(tx.ExecContext(ctx, `DELETE FROM memberships WHERE room = ? AND user_name = ?`, room, user))
	})
	if err != nil {
		return fmt.Errorf("remove %s from %q: %w", user, room, err)
	}
	return nil
}

// Unban lifts a ban.
func (s *SQLite) Unban(ctx context.Context, room, user string) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		return sqliteAffected(tx.ExecContext(ctx, `DELETE FROM bans WHERE room = ? AND user_name = ?`, room, user))
	})
	if err != nil {
		return fmt.Errorf("unban %s from %q: %w", user, room, err)
	}
	return nil
}

// Bans returns the users banned from room.
func (s *SQLite) Bans(ctx context.Context, room string) ([]Ban, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT user_name, banned_at FROM bans WHERE room = ? ORDER BY user_name`, room)
	if err != nil {
		return nil, fmt.Errorf("bans of %q: %w", room, sqliteErr(err))
	}
	defer rows.Close()
	var out []Ban
	for rows.Next() {
		var b Ban
		var at int64
		if err := rows.Scan(&b.User, &at); err != nil {
			return nil, fmt.Errorf("bans of %q: %w", room, sqliteErr(err))
		}
		b.BannedAt = fromMillis(at)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("bans of %q: %w", room, sqliteErr(err))
	}
	if len(out) == 0 {
		if err := s.roomExists(ctx, room); err != nil {
			return nil, fmt.Errorf("bans of %q: %w", room, err)
		}
	}
	return out, nil
}

// LeaveRoom removes user from room, handing ownership on if needed.
func (s *SQLite) LeaveRoom(ctx context.Context, room, user string) (string, error) {
	var heir string
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var role string
		if err := tx.QueryRowContext(ctx, `SELECT role FROM memberships WHERE room = ? AND user_name = ?`, room, user).Scan(&role); err != nil {
			return sqliteErr(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE room = ? AND user_name = ?`, room, user); err != nil {
			return sqliteErr(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rooms SET roster = roster + 1 WHERE name = ?`, room); err != nil {
			return sqliteErr(err)
		}
		if role != protocol.RoleOwner {
			return nil
		}
		err := tx.QueryRowContext(ctx, sqliteHeirSQL, room).Scan(&heir)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // no owner left, nobody to hand over to
		}
		if err != nil {
			return sqliteErr(err)
		}
		if heir == "" {
			return nil // another owner remains
		}
		_, err = tx.ExecContext(ctx, `UPDATE memberships SET role = 'owner' WHERE room = ? AND user_name = ?`, room, heir)
		return sqliteErr(err)
	})
	if err != nil {
		return "", fmt.Errorf("leave %q: %w", room, err)
	}
	return heir, nil
}

// sqliteHeirSQL picks who inherits a room its last owner left: empty when
// an owner remains, else the longest standing moderator, else member.
const sqliteHeirSQL = `
SELECT CASE WHEN EXISTS (SELECT 1 FROM memberships WHERE room = ?1 AND role = 'owner') THEN '' ELSE user_name END
FROM memberships WHERE room = ?1
ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 ELSE 2 END, joined_at, user_name
LIMIT 1`

// DeleteRoom deletes room; its memberships, bans, messages and mentions
// go with it (ON DELETE CASCADE).
func (s *SQLite) DeleteRoom(ctx context.Context, room string) ([]string, error) {
	var members []string
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT user_name FROM memberships WHERE room = ? ORDER BY user_name`, room)
		if err != nil {
			return sqliteErr(err)
		}
		defer rows.Close()
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				return sqliteErr(err)
			}
			members = append(members, u)
		}
		if err := rows.Err(); err != nil {
			return sqliteErr(err)
		}
		return sqliteAffected(tx.ExecContext(ctx, `DELETE FROM rooms WHERE name = ?`, room))
	})
	if err != nil {
		return nil, fmt.Errorf("delete room %q: %w", room, err)
	}
	return members, nil
}

// SetTopic sets room's topic.
func (s *SQLite) SetTopic(ctx context.Context, room, topic string) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		return sqliteAffected(tx.ExecContext(ctx, `UPDATE rooms SET topic = ? WHERE name = ?`, topic, room))
	})
	if err != nil {
		return fmt.Errorf("set topic of %q: %w", room, err)
	}
	return nil
}

// sqliteAffected turns an Exec that changed no row into ErrNotFound.
func sqliteAffected(res sql.Result, err error) error {
	if err != nil {
		return sqliteErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return sqliteErr(err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
