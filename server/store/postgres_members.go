package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleychat/parley/shared/protocol"
)

// pgQuerier is what both the pool and a transaction offer for reads.
type pgQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// pgAccessSQL reads a room's kind, user's role (empty when not a member) and
// whether user is banned. In a transaction that changes membership it
// locks the room row (FOR SHARE): every change that takes access away
// updates that row (roster), so a join cannot slip past a ban.
const pgAccessSQL = `
SELECT r.kind,
	COALESCE((SELECT m.role FROM memberships m WHERE m.room = r.name AND m.user_name = $2), ''),
	EXISTS (SELECT 1 FROM bans b WHERE b.room = r.name AND b.user_name = $2)
FROM rooms r WHERE r.name = $1`

func pgAccess(ctx context.Context, q pgQuerier, room, user string, lock bool) (Access, error) {
	query := pgAccessSQL
	if lock {
		query += ` FOR SHARE OF r`
	}
	var a Access
	if err := q.QueryRow(ctx, query, room, user).Scan(&a.Kind, &a.Role, &a.Banned); err != nil {
		return Access{}, pgErr(err)
	}
	return a, nil
}

// Access tells what user may do in room.
func (p *Postgres) Access(ctx context.Context, room, user string) (Access, error) {
	a, err := pgAccess(ctx, p.pool, room, user, false)
	if err != nil {
		return Access{}, fmt.Errorf("read access of %q to %q: %w", user, room, err)
	}
	return a, nil
}

// CreateRoomOf creates a room of kind with owner as its owner.
func (p *Postgres) CreateRoomOf(ctx context.Context, name, kind, owner string) (Room, error) {
	r := Room{Name: name, Epoch: newEpoch(), CreatedBy: owner, CreatedAt: now(), Kind: kind}
	err := p.tx(ctx, func(tx pgx.Tx) error {
		return pgInsertRoom(ctx, tx, r, protocol.RoleOwner, owners(owner)...)
	})
	if err != nil {
		return Room{}, fmt.Errorf("create %s room %q: %w", kind, name, err)
	}
	return r, nil
}

// pgInsertRoom inserts r and makes each of members a member with role.
func pgInsertRoom(ctx context.Context, tx pgx.Tx, r Room, role string, members ...string) error {
	if _, err := tx.Exec(ctx,
		`INSERT INTO rooms (name, epoch, head, created_by, created_at, kind) VALUES ($1, $2, 0, $3, $4, $5)`,
		r.Name, r.Epoch, r.CreatedBy, r.CreatedAt, r.Kind); err != nil {
		return pgErr(err)
	}
	for _, m := range members {
		if _, err := tx.Exec(ctx,
			`INSERT INTO memberships (room, user_name, joined_at, role) VALUES ($1, $2, $3, $4)`,
			r.Name, m, r.CreatedAt, role); err != nil {
			return pgErr(err)
		}
	}
	return nil
}

// DirectRoom returns (creating it if needed) the direct room of caller
// and others. Two nodes creating one set's room at once both insert; the
// primary key of direct_sets makes the second wait for the first and
// fail, and it then finds the first one's room.
func (p *Postgres) DirectRoom(ctx context.Context, caller string, others ...string) (Room, bool, error) {
	set, err := newDirectSet(caller, others)
	if err != nil {
		return Room{}, false, fmt.Errorf("direct room: %w", err)
	}
	r, created, err := p.directRoom(ctx, set, caller)
	if errors.Is(err, ErrConflict) {
		r, created, err = p.directRoom(ctx, set, caller) // lost the race: it exists now
	}
	if err != nil {
		return Room{}, false, fmt.Errorf("direct room of %s: %w", set, err)
	}
	return r, created, nil
}

func (p *Postgres) directRoom(ctx context.Context, set directSet, caller string) (Room, bool, error) {
	var r Room
	var created bool
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, `SELECT room FROM direct_sets WHERE set_key = $1`, set.key).Scan(&name)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			r = Room{Name: directRoomName(), Epoch: newEpoch(), CreatedBy: caller, CreatedAt: now(), Kind: protocol.KindDirect}
			if err := pgInsertRoom(ctx, tx, r, protocol.RoleMember, set.users...); err != nil {
				return err
			}
			created = true
			_, err := tx.Exec(ctx, `INSERT INTO direct_sets (set_key, users, room) VALUES ($1, $2, $3)`,
				set.key, strings.Join(set.users, " "), r.Name)
			return pgErr(err)
		case err != nil:
			return pgErr(err)
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO memberships (room, user_name, joined_at, role) VALUES ($1, $2, $3, 'member')
			 ON CONFLICT (room, user_name) DO NOTHING`, name, caller, now()); err != nil {
			return pgErr(err)
		}
		r, err = pgScanRoom(tx.QueryRow(ctx, `SELECT `+pgRoomColumns+` FROM rooms WHERE name = $1`, name))
		return err
	})
	return r, created, err
}

// RoomsOf returns the rooms user may see.
func (p *Postgres) RoomsOf(ctx context.Context, user string) ([]MemberRoom, error) {
	rows, err := p.pool.Query(ctx, `
SELECT r.name, r.epoch, r.head, r.created_by, r.created_at, r.kind, r.topic, r.roster,
	COALESCE(m.role, ''),
	COALESCE(d.users, ''),
	`+pgUnreadColumns+`
FROM rooms r
LEFT JOIN memberships m ON m.room = r.name AND m.user_name = $1
LEFT JOIN direct_sets d ON d.room = r.name
WHERE r.kind <> 'inbox' AND (m.user_name IS NOT NULL OR (r.kind = 'public' AND NOT EXISTS (SELECT 1 FROM bans b WHERE b.room = r.name AND b.user_name = $1)))
ORDER BY r.name`, user, nameKey(user), protocol.UnreadCap)
	if err != nil {
		return nil, fmt.Errorf("list rooms of %s: %w", user, pgErr(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (MemberRoom, error) {
		var mr MemberRoom
		var users string
		err := row.Scan(&mr.Name, &mr.Epoch, &mr.Head, &mr.CreatedBy, &mr.CreatedAt, &mr.Kind, &mr.Topic, &mr.Roster, &mr.Role, &users,
			&mr.LastRead, &mr.Unread, &mr.Mentions)
		mr.CreatedAt = mr.CreatedAt.UTC()
		mr.setPeers(users, user)
		return mr, err
	})
	if err != nil {
		return nil, fmt.Errorf("list rooms of %s: %w", user, pgErr(err))
	}
	return out, nil
}

// Roster returns room's members with their roles.
func (p *Postgres) Roster(ctx context.Context, room string) ([]Member, error) {
	rows, err := p.pool.Query(ctx,
		`SELECT user_name, role, joined_at FROM memberships WHERE room = $1 ORDER BY user_name`, room)
	if err != nil {
		return nil, fmt.Errorf("roster of %q: %w", room, pgErr(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Member, error) {
		var m Member
		err := row.Scan(&m.User, &m.Role, &m.JoinedAt)
		m.JoinedAt = m.JoinedAt.UTC()
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("roster of %q: %w", room, pgErr(err))
	}
	if len(out) == 0 {
		if err := p.roomExists(ctx, room); err != nil {
			return nil, fmt.Errorf("roster of %q: %w", room, err)
		}
		return nil, nil
	}
	return out, nil
}

// AddMember adds user to room with role, unless banned.
func (p *Postgres) AddMember(ctx context.Context, room, user, role string) error {
	err := p.tx(ctx, func(tx pgx.Tx) error {
		a, err := pgAccess(ctx, tx, room, user, true)
		if err != nil {
			return err
		}
		if insert, err := addVerdict(a); !insert {
			return err
		}
		_, err = tx.Exec(ctx,
			`INSERT INTO memberships (room, user_name, joined_at, role) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (room, user_name) DO NOTHING`,
			room, user, now(), role)
		return pgErr(err)
	})
	if err != nil {
		return fmt.Errorf("add %s to %q: %w", user, room, err)
	}
	return nil
}

// SetRole changes a member's role.
func (p *Postgres) SetRole(ctx context.Context, room, user, role string) error {
	err := pgAffected(p.pool.Exec(ctx,
		`UPDATE memberships SET role = $1 WHERE room = $2 AND user_name = $3`, role, room, user))
	if err != nil {
		return fmt.Errorf("set role of %s in %q: %w", user, room, err)
	}
	return nil
}

// RemoveMember kicks (and with ban, bans) user from room.
func (p *Postgres) RemoveMember(ctx context.Context, room, user string, ban bool) error {
	err := p.tx(ctx, func(tx pgx.Tx) error {
		if err := pgAffected(tx.Exec(ctx, `UPDATE rooms SET roster = roster + 1 WHERE name = $1`, room)); err != nil {
			return err
		}
		if ban {
			if _, err := tx.Exec(ctx,
				`INSERT INTO bans (room, user_name, banned_at) VALUES ($1, $2, $3) ON CONFLICT (room, user_name) DO NOTHING`,
				room, user, now()); err != nil {
				return pgErr(err)
			}
			_, err := tx.Exec(ctx, `DELETE FROM memberships WHERE room = $1 AND user_name = $2`, room, user)
			return pgErr(err)
		}
		return pgAffected(tx.Exec(ctx, `DELETE FROM memberships WHERE room = $1 AND user_name = $2`, room, user))
	})
	if err != nil {
		return fmt.Errorf("remove %s from %q: %w", user, room, err)
	}
	return nil
}

// Unban lifts a ban.
func (p *Postgres) Unban(ctx context.Context, room, user string) error {
	err := pgAffected(p.pool.Exec(ctx, `DELETE FROM bans WHERE room = $1 AND user_name = $2`, room, user))
	if err != nil {
		return fmt.Errorf("unban %s from %q: %w", user, room, err)
	}
	return nil
}

// Bans returns the users banned from room.
func (p *Postgres) Bans(ctx context.Context, room string) ([]Ban, error) {
	rows, err := p.pool.Query(ctx,
		`SELECT user_name, banned_at FROM bans WHERE room = $1 ORDER BY user_name`, room)
	if err != nil {
		return nil, fmt.Errorf("bans of %q: %w", room, pgErr(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Ban, error) {
		var b Ban
		err := row.Scan(&b.User, &b.BannedAt)
		b.BannedAt = b.BannedAt.UTC()
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("bans of %q: %w", room, pgErr(err))
	}
	if len(out) == 0 {
		if err := p.roomExists(ctx, room); err != nil {
			return nil, fmt.Errorf("bans of %q: %w", room, err)
		}
		return nil, nil
	}
	return out, nil
}

// LeaveRoom removes user from room, handing ownership on if needed. The
// room row's lock (roster) serialises two owners leaving at once.
func (p *Postgres) LeaveRoom(ctx context.Context, room, user string) (string, error) {
	var heir string
	err := p.tx(ctx, func(tx pgx.Tx) error {
		if err := pgAffected(tx.Exec(ctx, `UPDATE rooms SET roster = roster + 1 WHERE name = $1`, room)); err != nil {
			return err
		}
		var role string
		if err := tx.QueryRow(ctx, `DELETE FROM memberships WHERE room = $1 AND user_name = $2 RETURNING role`, room, user).Scan(&role); err != nil {
			return pgErr(err)
		}
		if role != protocol.RoleOwner {
			return nil
		}
		err := tx.QueryRow(ctx, pgHeirSQL, room).Scan(&heir)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil || heir == "" {
			return pgErr(err)
		}
		_, err = tx.Exec(ctx, `UPDATE memberships SET role = 'owner' WHERE room = $1 AND user_name = $2`, room, heir)
		return pgErr(err)
	})
	if err != nil {
		return "", fmt.Errorf("leave %q: %w", room, err)
	}
	return heir, nil
}

// pgHeirSQL: see sqliteHeirSQL.
const pgHeirSQL = `
SELECT CASE WHEN EXISTS (SELECT 1 FROM memberships WHERE room = $1 AND role = 'owner') THEN '' ELSE user_name END
FROM memberships WHERE room = $1
ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 ELSE 2 END, joined_at, user_name
LIMIT 1`

// DeleteRoom deletes room; its memberships, bans, messages and mentions
// go with it (ON DELETE CASCADE). The room's row is locked first, so an
// Append, Join or invite that comes later waits and then finds no room.
func (p *Postgres) DeleteRoom(ctx context.Context, room string) ([]string, error) {
	var members []string
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var name string
		if err := tx.QueryRow(ctx, `SELECT name FROM rooms WHERE name = $1 FOR UPDATE`, room).Scan(&name); err != nil {
			return pgErr(err)
		}
		rows, err := tx.Query(ctx, `SELECT user_name FROM memberships WHERE room = $1 ORDER BY user_name`, room)
		if err != nil {
			return pgErr(err)
		}
		members, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return pgErr(err)
		}
		return pgAffected(tx.Exec(ctx, `DELETE FROM rooms WHERE name = $1`, room))
	})
	if err != nil {
		return nil, fmt.Errorf("delete room %q: %w", room, err)
	}
	return members, nil
}

// SetTopic sets room's topic.
func (p *Postgres) SetTopic(ctx context.Context, room, topic string) error {
	if err := pgAffected(p.pool.Exec(ctx, `UPDATE rooms SET topic = $1 WHERE name = $2`, topic, room)); err != nil {
		return fmt.Errorf("set topic of %q: %w", room, err)
	}
	return nil
}

// pgAffected turns an Exec that changed no row into ErrNotFound.
func pgAffected(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return pgErr(err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
