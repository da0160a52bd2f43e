package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite is the embedded Store of a single node, one database file.
//
// SQLite admits one writer at a time, so every write goes through a pool of
// exactly one connection (writes queue in Go, never on SQLITE_BUSY) that
// begins its transactions IMMEDIATE; reads use a separate pool and, thanks to
// WAL mode, never wait for writers. Several processes may open the same file:
// the busy timeout then arbitrates between their writers.
type SQLite struct {
	w *sql.DB // the one write connection
	r *sql.DB // read pool (the same as w for an in-memory database)
}

var _ Store = (*SQLite)(nil)

// sqliteBusyTimeout is how long, in milliseconds, a connection waits for a
// lock held by another connection or process before reporting SQLITE_BUSY.
const sqliteBusyTimeout = 10000

// OpenSQLite opens (creating if needed) the database file at path and
// brings its schema up to date. The path ":memory:" opens a private
// in-memory database, handy for tools; it lives as long as the Store.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	w, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &SQLite{w: w, r: w}
	if err := s.migrateWhenFree(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if path == ":memory:" {
		return s, nil
	}
	r, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	r.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	s.r = r
	if err := r.PingContext(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return s, nil
}

// migrateWhenFree migrates, retrying while another connection holds a lock
// SQLite does not wait for: when several processes open a new file at once,
// switching it to WAL mode reports SQLITE_BUSY to the others at once.
func (s *SQLite) migrateWhenFree(ctx context.Context) error {
	deadline := time.Now().Add(sqliteBusyTimeout * time.Millisecond)
	delay := time.Millisecond
	for {
		err := s.migrate(ctx)
		if err == nil || !isSQLiteBusy(err) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("migrate: %w", ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// isSQLiteBusy reports whether err is SQLite's "database is locked".
func isSQLiteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED)
}

// sqliteDSN returns the driver's data source name for path: WAL journal,
// NORMAL synchronous (durable at checkpoints, never corrupt), foreign keys
// and a busy timeout on every connection, secure_delete on the writer; the write connection takes the
// write lock when a transaction begins, the read connections are read-only.
func sqliteDSN(path string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if write {
		if path != ":memory:" {
			q.Add("_pragma", "journal_mode(WAL)")
		}
		// A deleted message's text must leave the file, not linger in
		// a freed cell.
		q.Add("_pragma", "secure_delete(1)")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	sep := "?"
	if strings.Contains(path, "?") { // a file: URI with parameters of its own
		sep = "&"
	}
	return path + sep + q.Encode()
}

// Ping checks that the database answers.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close closes both pools.
func (s *SQLite) Close() error {
	var errR error
	if s.r != s.w {
		errR = s.r.Close()
	}
	if err := errors.Join(errR, s.w.Close()); err != nil {
		return fmt.Errorf("close sqlite: %w", err)
	}
	return nil
}

// writeTx runs fn in an IMMEDIATE transaction on the write connection and
// commits it if fn returns nil.
func (s *SQLite) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", sqliteErr(err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", sqliteErr(err))
	}
	return nil
}

// sqliteErr maps the driver's errors onto the Store's: no rows is
// ErrNotFound, a unique or primary key violation ErrConflict and a foreign
// key violation (a row referring to a missing room or user) ErrNotFound.
func sqliteErr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}
