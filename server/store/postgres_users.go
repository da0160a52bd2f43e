package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CreateUser stores a new account; ErrConflict if the name is taken in any
// letter case.
func (p *Postgres) CreateUser(ctx context.Context, name, passwordHash string) (User, error) {
	u := User{Name: name, PasswordHash: passwordHash, CreatedAt: now()}
	err := p.pool.QueryRow(ctx,
		`INSERT INTO users (name, name_key, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		name, nameKey(name), passwordHash, u.CreatedAt).Scan(&u.ID)
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", name, pgErr(err))
	}
	return u, nil
}

// UserByName finds a live account by name, in any letter case.
func (p *Postgres) UserByName(ctx context.Context, name string) (User, error) {
	u, err := pgScanUser(p.pool.QueryRow(ctx,
		`SELECT id, name, password_hash, created_at FROM users WHERE name_key = $1 AND deleted_at IS NULL`, nameKey(name)))
	if err != nil {
		return User{}, fmt.Errorf("find user %q: %w", name, err)
	}
	return u, nil
}

func pgScanUser(row pgx.Row) (User, error) {
	var u User
	if err := row.Scan(&u.ID, &u.Name, &u.PasswordHash, &u.CreatedAt); err != nil {
		return User{}, pgErr(err)
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return u, nil
}

// SetPasswordHash replaces a live account's password hash.
func (p *Postgres) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	tag, err := p.pool.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2 AND deleted_at IS NULL`, hash, userID)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, pgErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set password of user %d: %w", userID, ErrNotFound)
	}
	return nil
}

// DeleteUser turns an account into a tombstone: see Store.DeleteUser.
func (p *Postgres) DeleteUser(ctx context.Context, userID int64) ([]string, []Heir, error) {
	var (
		ended []string
		heirs []Heir
	)
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx,
			`UPDATE users SET password_hash = '', deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL RETURNING name`,
			now(), userID).Scan(&name)
		if err != nil {
			return pgErr(err)
		}
		if ended, err = pgEndSessions(ctx, tx, userID, ""); err != nil {
			return err
		}
		heirs, err = pgDropMemberships(ctx, tx, name)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("delete user %d: %w", userID, err)
	}
	return ended, heirs, nil
}

// pgDropMemberships removes a deleted account's memberships and hands
// each room it was the last owner of to the longest standing moderator,
// else member (as LeaveRoom does). The rooms' rows are locked first, in
// name order, as LeaveRoom locks its room's row: two owners leaving or
// deleted at once cannot both see the other still there.
func pgDropMemberships(ctx context.Context, tx pgx.Tx, name string) ([]Heir, error) {
	var heirs []Heir
	rows, err := tx.Query(ctx, `SELECT r.name FROM rooms r JOIN memberships m ON m.room = r.name
		WHERE m.user_name = $1 AND m.role = 'owner' ORDER BY r.name FOR UPDATE OF r`, name)
	if err != nil {
		return nil, pgErr(err)
	}
	owned, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, pgErr(err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM memberships WHERE user_name = $1`, name); err != nil {
		return nil, pgErr(err)
	}
	for _, room := range owned {
		if _, err := tx.Exec(ctx, `UPDATE rooms SET roster = roster + 1 WHERE name = $1`, room); err != nil {
			return nil, pgErr(err)
		}
		var heir string
		err := tx.QueryRow(ctx, pgHeirSQL, room).Scan(&heir)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && heir == "") {
			continue // nobody left, or another owner remains
		}
		if err != nil {
			return nil, pgErr(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE memberships SET role = 'owner' WHERE room = $1 AND user_name = $2`, room, heir); err != nil {
			return nil, pgErr(err)
		}
		heirs = append(heirs, Heir{Room: room, User: heir})
	}
	return heirs, nil
}
