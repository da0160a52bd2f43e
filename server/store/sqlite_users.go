package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// CreateUser stores a new account; ErrConflict if the name is taken in any
// letter case.
func (s *SQLite) CreateUser(ctx context.Context, name, passwordHash string) (User, error) {
	u := User{Name: name, PasswordHash: passwordHash, CreatedAt: now()}
	err := s.w.QueryRowContext(ctx,
		`INSERT INTO users (name, name_key, password_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		name, nameKey(name), passwordHash, u.CreatedAt.UnixMilli()).Scan(&u.ID)
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", name, sqliteErr(err))
	}
	return u, nil
}

// UserByName finds a live account by name, in any letter case.
func (s *SQLite) UserByName(ctx context.Context, name string) (User, error) {
	u, err := sqliteScanUser(s.r.QueryRowContext(ctx,
		`SELECT id, name, password_hash, created_at FROM users WHERE name_key = ? AND deleted_at = 0`, nameKey(name)))
	if err != nil {
		return User{}, fmt.Errorf("find user %q: %w", name, err)
	}
	return u, nil
}

func sqliteScanUser(row *sql.Row) (User, error) {
	var u User
	var created int64
	if err := row.Scan(&u.ID, &u.Name, &u.PasswordHash, &created); err != nil {
		return User{}, sqliteErr(err)
	}
	u.CreatedAt = fromMillis(created)
	return u, nil
}

// SetPasswordHash replaces a live account's password hash.
func (s *SQLite) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ? AND deleted_at = 0`, hash, userID)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, sqliteErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set password of user %d: %w", userID, ErrNotFound)
	}
	return nil
}

// DeleteUser turns an account into a tombstone: see Store.DeleteUser.
func (s *SQLite) DeleteUser(ctx context.Context, userID int64) ([]string, []Heir, error) {
	var (
		ended []string
		heirs []Heir
	)
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var name string
		err := tx.QueryRowContext(ctx,
			`UPDATE users SET password_hash = '', deleted_at = ? WHERE id = ? AND deleted_at = 0 RETURNING name`,
			now().UnixMilli(), userID).Scan(&name)
		if err != nil {
			return sqliteErr(err)
		}
		if ended, err = sqliteEndSessions(ctx, tx, userID, ""); err != nil {
			return err
		}
		heirs, err = sqliteDropMemberships(ctx, tx, name)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("delete user %d: %w", userID, err)
	}
	return ended, heirs, nil
}

// sqliteDropMemberships removes a deleted account's memberships and
// hands each room it was the last owner of to the longest standing
// moderator, else member (as LeaveRoom does).
func sqliteDropMemberships(ctx context.Context, tx *sql.Tx, name string) ([]Heir, error) {
	var heirs []Heir
	rows, err := tx.QueryContext(ctx,
		`SELECT room FROM memberships WHERE user_name = ? AND role = 'owner' ORDER BY room`, name)
	if err != nil {
		return nil, sqliteErr(err)
	}
	var owned []string
	for rows.Next() {
		var room string
		if err := rows.Scan(&room); err != nil {
			rows.Close()
			return nil, sqliteErr(err)
		}
		owned = append(owned, room)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, sqliteErr(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE user_name = ?`, name); err != nil {
		return nil, sqliteErr(err)
	}
	for _, room := range owned {
		if _, err := tx.ExecContext(ctx, `UPDATE rooms SET roster = roster + 1 WHERE name = ?`, room); err != nil {
			return nil, sqliteErr(err)
		}
		var heir string
		err := tx.QueryRowContext(ctx, sqliteHeirSQL, room).Scan(&heir)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && heir == "") {
			continue // nobody left, or another owner remains
		}
		if err != nil {
			return nil, sqliteErr(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE memberships SET role = 'owner' WHERE room = ? AND user_name = ?`, room, heir); err != nil {
			return nil, sqliteErr(err)
		}
		heirs = append(heirs, Heir{Room: room, User: heir})
	}
	return heirs, nil
}
