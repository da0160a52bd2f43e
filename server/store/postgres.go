package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the Store of a cluster: any number of nodes share one
// PostgreSQL database. Per-room offsets come from the room row's head,
// advanced under that row's lock in the same statement that inserts the
// message, so concurrent appends from any node serialise per room and a
// failed append leaves no gap.
type Postgres struct {
	pool *pgxpool.Pool
}

var _ Store = (*Postgres)(nil)

// PostgreSQL error codes the store maps (SQLSTATE).
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// OpenPostgres connects to the database at url (a postgres:// URL or a
// keyword/value string) with at most maxConns connections (maxConns <= 0
// keeps pgx's default) and brings its schema up to date. Nodes starting at
// once take turns migrating.
func OpenPostgres(ctx context.Context, url string, maxConns int) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: parse url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(min(maxConns, 1<<20))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	p := &Postgres{pool: pool}
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return p, nil
}

// Ping checks that the database answers.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := p.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// tx runs fn in a transaction and commits it if fn returns nil.
func (p *Postgres) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if err := pgx.BeginFunc(ctx, p.pool, fn); err != nil {
		return pgErr(err)
	}
	return nil
}

// pgErr maps pgx's errors onto the Store's: no rows is ErrNotFound, a
// unique violation ErrConflict and a foreign key violation (a row referring
// to a missing room or user) ErrNotFound.
func pgErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return err
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case pgUniqueViolation:
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case pgForeignKeyViolation:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// isUniqueViolation reports whether err violates the named constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgUniqueViolation && pe.ConstraintName == constraint
}
