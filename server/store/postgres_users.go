package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// UserByName finds an account by name, in any letter case.
func (p *Postgres) UserByName(ctx context.Context, name string) (User, error) {
	u, err := pgScanUser(p.pool.QueryRow(ctx,
		`SELECT id, name, password_hash, created_at FROM users WHERE name_key = $1`, nameKey(name)))
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

// SaveRefreshToken stores t; ErrNotFound if its user does not exist,
// ErrConflict if its hash is already stored.
func (p *Postgres) SaveRefreshToken(ctx context.Context, t RefreshToken) error {
	if err := pgInsertToken(ctx, p.pool, t); err != nil {
		return fmt.Errorf("save refresh token: %w", err)
	}
	return nil
}

// pgExecer is what a pool and a transaction share.
type pgExecer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func pgInsertToken(ctx context.Context, db pgExecer, t RefreshToken) error {
	_, err := db.Exec(ctx, `INSERT INTO refresh_tokens (hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		t.Hash, t.UserID, t.ExpiresAt.UTC().Truncate(time.Millisecond))
	return pgErr(err)
}

// RotateRefreshToken atomically replaces the live token oldHash by next,
// saved for the old token's user, and returns that user.
func (p *Postgres) RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, at time.Time) (User, error) {
	var u User
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var userID int64
		err := tx.QueryRow(ctx,
			`DELETE FROM refresh_tokens WHERE hash = $1 AND expires_at > $2 RETURNING user_id`,
			oldHash, at.UTC().Truncate(time.Millisecond)).Scan(&userID)
		if err != nil {
			return pgErr(err)
		}
		next.UserID = userID
		if err := pgInsertToken(ctx, tx, next); err != nil {
			return err
		}
		u, err = pgScanUser(tx.QueryRow(ctx,
			`SELECT id, name, password_hash, created_at FROM users WHERE id = $1`, userID))
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	return u, nil
}

// DeleteRefreshToken revokes a token; revoking a missing one is no error.
func (p *Postgres) DeleteRefreshToken(ctx context.Context, hash string) error {
	if _, err := p.pool.Exec(ctx, `DELETE FROM refresh_tokens WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete refresh token: %w", pgErr(err))
	}
	return nil
}
