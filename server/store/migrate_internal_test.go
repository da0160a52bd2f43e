package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley/internal/testenv"
)

// legacyHash is a refresh token hash stored under schema version 1.
const legacyHash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// checkLegacyToken checks that a version-1 refresh token became a session
// of its own, and still rotates.
func checkLegacyToken(t *testing.T, s Store) {
	t.Helper()
	ctx := t.Context()
	sess, err := s.SessionByToken(ctx, legacyHash)
	if err != nil || sess.ID != "legacy-"+legacyHash[:32] {
		t.Fatalf("legacy token's session = %+v, %v", sess, err)
	}
	now := time.Now()
	rot, err := s.RotateRefreshToken(ctx, legacyHash, RefreshToken{Hash: "next", ExpiresAt: now.Add(time.Hour)}, now, 0)
	if err != nil || rot.User.Name != "alice" || rot.Session.ID != sess.ID {
		t.Fatalf("rotating the legacy token: %+v, %v", rot, err)
	}
	if _, err := s.UserByName(ctx, "alice"); err != nil {
		t.Fatalf("UserByName after migration: %v", err)
	}
}

func TestSQLiteMigrateSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(24 * time.Hour).UnixMilli()
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		sqliteMigrations[0].sql,
		`INSERT INTO schema_migrations VALUES (1, 'initial schema', 0)`,
		`INSERT INTO users (name, name_key, password_hash, created_at) VALUES ('alice', 'alice', 'h', 0)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("build a version-1 database: %v", err)
		}
	}
	if _, err := db.Exec(`INSERT INTO refresh_tokens VALUES (?, 1, ?)`, legacyHash, exp); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("open and migrate: %v", err)
	}
	defer s.Close()
	checkLegacyToken(t, s)
}

func TestPostgresMigrateSessions(t *testing.T) {
	url := testenv.Postgres(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
		pgMigrations[0].sql,
		`INSERT INTO schema_migrations (version, name) VALUES (1, 'initial schema')`,
		`INSERT INTO users (name, name_key, password_hash, created_at) VALUES ('alice', 'alice', 'h', now())`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("build a version-1 database: %v", err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO refresh_tokens SELECT $1, id, now() + interval '1 day' FROM users`, legacyHash); err != nil {
		t.Fatal(err)
	}
	s, err := OpenPostgres(ctx, url, 2)
	if err != nil {
		t.Fatalf("open and migrate: %v", err)
	}
	defer s.Close()
	checkLegacyToken(t, s)
}
