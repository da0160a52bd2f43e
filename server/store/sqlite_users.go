package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
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

// UserByName finds an account by name, in any letter case.
func (s *SQLite) UserByName(ctx context.Context, name string) (User, error) {
	u, err := sqliteScanUser(s.r.QueryRowContext(ctx,
		`SELECT id, name, password_hash, created_at FROM users WHERE name_key = ?`, nameKey(name)))
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

// SaveRefreshToken stores t; ErrNotFound if its user does not exist,
// ErrConflict if its hash is already stored.
func (s *SQLite) SaveRefreshToken(ctx context.Context, t RefreshToken) error {
	if err := sqliteInsertToken(ctx, s.w, t); err != nil {
		return fmt.Errorf("save refresh token: %w", err)
	}
	return nil
}

// sqliteExecer is what *sql.DB and *sql.Tx share.
type sqliteExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func sqliteInsertToken(ctx context.Context, db sqliteExecer, t RefreshToken) error {
	_, err := db.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, user_id, expires_at) VALUES (?, ?, ?)`,
		t.Hash, t.UserID, t.ExpiresAt.UnixMilli())
	return sqliteErr(err)
}

// RotateRefreshToken atomically replaces the live token oldHash by next,
// saved for the old token's user, and returns that user.
func (s *SQLite) RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, at time.Time) (User, error) {
	var u User
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var userID int64
		err := tx.QueryRowContext(ctx,
			`DELETE FROM refresh_tokens WHERE hash = ? AND expires_at > ? RETURNING user_id`,
			oldHash, at.UnixMilli()).Scan(&userID)
		if err != nil {
			return sqliteErr(err)
		}
		next.UserID = userID
		if err := sqliteInsertToken(ctx, tx, next); err != nil {
			return err
		}
		u, err = sqliteScanUser(tx.QueryRowContext(ctx,
			`SELECT id, name, password_hash, created_at FROM users WHERE id = ?`, userID))
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	return u, nil
}

// DeleteRefreshToken revokes a token; revoking a missing one is no error.
func (s *SQLite) DeleteRefreshToken(ctx context.Context, hash string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("delete refresh token: %w", sqliteErr(err))
	}
	return nil
}
