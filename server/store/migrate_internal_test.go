package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley/shared/testenv"
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

// checkConversationsMigrated checks what migration 3 promises: every room
// is public, its history stays, and its creator (if their account is live)
// owns it.
func checkConversationsMigrated(t *testing.T, s Store) {
	t.Helper()
	ctx := t.Context()
	for _, name := range []string{"lobby", "old", "general"} {
		r, err := s.Room(ctx, name)
		if err != nil || r.Kind != "public" {
			t.Fatalf("Room(%s) after migration = %+v, %v; want public", name, r, err)
		}
	}
	msgs, err := s.History(ctx, "lobby", Page{Newest: true})
	if err != nil || len(msgs) != 2 || msgs[0].Body != "first" || msgs[1].Body != "second" {
		t.Fatalf("lobby history after migration = %+v, %v", msgs, err)
	}
	members, err := s.Roster(ctx, "lobby")
	if err != nil || len(members) != 2 ||
		members[0] != (Member{User: "alice", Role: "owner", JoinedAt: members[0].JoinedAt}) ||
		members[1] != (Member{User: "bob", Role: "member", JoinedAt: members[1].JoinedAt}) {
		t.Fatalf("lobby roster after migration = %+v, %v; want alice owner, bob member", members, err)
	}
	if members, err := s.Roster(ctx, "old"); err != nil || len(members) != 0 {
		t.Fatalf("a deleted creator came back as owner: %+v, %v", members, err)
	}
	// Migration 4: existing members have read everything so far.
	rooms, err := s.RoomsOf(ctx, "bob")
	if err != nil || len(rooms) != 3 || rooms[1].Name != "lobby" || rooms[1].LastRead != 2 || rooms[1].Unread != 0 {
		t.Fatalf("bob's rooms after migration = %+v, %v; want lobby read up to 2", rooms, err)
	}
	if m, _, err := s.Append(ctx, Message{Room: "lobby", Author: "bob", Body: "third"}); err != nil || m.Offset != 3 {
		t.Fatalf("append after migration = %+v, %v", m, err)
	}
}

// v2Fixture is the data of a version-2 database, in either dialect
// (timestamps are filled in per backend).
var v2Fixture = []string{
	`INSERT INTO users (name, name_key, password_hash, created_at) VALUES ('alice', 'alice', 'h', %[1]s)`,
	`INSERT INTO users (name, name_key, password_hash, created_at, deleted_at) VALUES ('gone', 'gone', 'h', %[1]s, %[1]s)`,
	`INSERT INTO rooms (name, epoch, head, created_by, created_at) VALUES ('lobby', 7, 2, 'alice', %[1]s)`,
	`INSERT INTO rooms (name, epoch, head, created_by, created_at) VALUES ('old', 8, 0, 'gone', %[1]s)`,
	`INSERT INTO rooms (name, epoch, head, created_by, created_at) VALUES ('general', 9, 0, '', %[1]s)`,
	`INSERT INTO memberships (room, user_name, joined_at) VALUES ('lobby', 'bob', %[1]s)`,
	`INSERT INTO messages (room, seq, author, body, ts) VALUES ('lobby', 1, 'alice', 'first', %[1]s)`,
	`INSERT INTO messages (room, seq, author, body, ts) VALUES ('lobby', 2, 'bob', 'second', %[1]s)`,
}

func TestSQLiteMigrateConversations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	qs := []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		sqliteMigrations[0].sql, sqliteMigrations[1].sql,
		`INSERT INTO schema_migrations VALUES (1, 'initial schema', 0), (2, 'sessions', 0)`,
	}
	for _, q := range v2Fixture {
		qs = append(qs, fmt.Sprintf(q, "1700000000000"))
	}
	for _, q := range qs {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("build a version-2 database: %v", err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("open and migrate: %v", err)
	}
	defer s.Close()
	checkConversationsMigrated(t, s)
}

func TestPostgresMigrateConversations(t *testing.T) {
	url := testenv.Postgres(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	qs := []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
		pgMigrations[0].sql, pgMigrations[1].sql,
		`INSERT INTO schema_migrations (version, name) VALUES (1, 'initial schema'), (2, 'sessions')`,
	}
	for _, q := range v2Fixture {
		qs = append(qs, fmt.Sprintf(q, "now()"))
	}
	for _, q := range qs {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("build a version-2 database: %v", err)
		}
	}
	s, err := OpenPostgres(ctx, url, 2)
	if err != nil {
		t.Fatalf("open and migrate: %v", err)
	}
	defer s.Close()
	checkConversationsMigrated(t, s)
}

// withoutMigration4 leaves migration 4 out of list until the returned
// function puts it back: a database migrated by a build that had 5 but not
// yet 4 (changes developed in parallel land in any order).
func withoutMigration4(t *testing.T, list *[]migration) (restore func()) {
	t.Helper()
	saved := *list
	t.Cleanup(func() { *list = saved })
	var next []migration
	for _, m := range saved {
		if m.version != 4 {
			next = append(next, m)
		}
	}
	*list = next
	return func() { *list = saved }
}

// TestSQLiteMigrateGap checks that a migration numbered below the newest
// applied one, added later, is still applied (versions may have gaps).
func TestSQLiteMigrateGap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gap.db")
	restore := withoutMigration4(t, &sqliteMigrations)
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	restore()
	s, err = OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen with migration 4 after 5: %v", err)
	}
	defer s.Close()
	if _, err := s.w.ExecContext(t.Context(), `SELECT count(*) FROM mentions`); err != nil {
		t.Fatalf("migration 4 was not applied: %v", err)
	}
}

// TestPostgresMigrateGap is TestSQLiteMigrateGap on PostgreSQL.
func TestPostgresMigrateGap(t *testing.T) {
	url := testenv.Postgres(t)
	restore := withoutMigration4(t, &pgMigrations)
	s, err := OpenPostgres(t.Context(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	restore()
	s, err = OpenPostgres(t.Context(), url, 2)
	if err != nil {
		t.Fatalf("reopen with migration 4 after 5: %v", err)
	}
	defer s.Close()
	if _, err := s.pool.Exec(t.Context(), `SELECT count(*) FROM mentions`); err != nil {
		t.Fatalf("migration 4 was not applied: %v", err)
	}
}

// withMigrationsUpTo keeps only the migrations up to version v in list
// until the test ends: a database from before the later ones.
func withMigrationsUpTo(t *testing.T, list *[]migration, v int) (restore func()) {
	t.Helper()
	saved := *list
	t.Cleanup(func() { *list = saved })
	*list = slices.DeleteFunc(slices.Clone(saved), func(m migration) bool { return m.version > v })
	return func() { *list = saved }
}

// v5DirectFixture is a pair's direct room under schema version 5, in
// either dialect (TS: a timestamp).
var v5DirectFixture = []string{
	`INSERT INTO rooms (name, epoch, head, created_by, created_at, kind) VALUES ('dm-old', 3, 0, 'Zed', TS, 'direct')`,
	`INSERT INTO memberships (room, user_name, joined_at) VALUES ('dm-old', 'Zed', TS), ('dm-old', 'amy', TS)`,
	`INSERT INTO direct_rooms (key_a, key_b, user_a, user_b, room) VALUES ('amy', 'zed', 'amy', 'Zed', 'dm-old')`,
}

// checkPairKept checks what migration 6 promises: a pair's room from
// before is the room of that set, for either of them, and names the
// other; a group is a new room.
func checkPairKept(t *testing.T, s Store) {
	t.Helper()
	ctx := t.Context()
	for _, ask := range [][2]string{{"Zed", "amy"}, {"AMY", "zed"}} {
		r, created, err := s.DirectRoom(ctx, ask[0], ask[1])
		if err != nil || created || r.Name != "dm-old" {
			t.Fatalf("DirectRoom(%v) after migration = %+v, created %v, %v; want dm-old", ask, r, created, err)
		}
	}
	rooms, err := s.RoomsOf(ctx, "amy")
	if err != nil || len(rooms) != 1 || rooms[0].Peer != "Zed" || !slices.Equal(rooms[0].Peers, []string{"Zed"}) {
		t.Fatalf("amy's rooms after migration = %+v, %v; want dm-old with Zed", rooms, err)
	}
	g, created, err := s.DirectRoom(ctx, "amy", "Zed", "bob")
	if err != nil || !created || g.Name == "dm-old" {
		t.Fatalf("a group after migration = %+v, created %v, %v", g, created, err)
	}
}

func TestSQLiteMigrateDirectSets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v5.db")
	restore := withMigrationsUpTo(t, &sqliteMigrations, 5)
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range v5DirectFixture {
		if _, err := s.w.ExecContext(t.Context(), strings.ReplaceAll(q, "TS", "1700000000000")); err != nil {
			t.Fatalf("build a version-5 database: %v", err)
		}
	}
	s.Close()
	restore()
	s, err = OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("open and migrate: %v", err)
	}
	defer s.Close()
	checkPairKept(t, s)
}

func TestPostgresMigrateDirectSets(t *testing.T) {
	url := testenv.Postgres(t)
	restore := withMigrationsUpTo(t, &pgMigrations, 5)
	s, err := OpenPostgres(t.Context(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range v5DirectFixture {
		if _, err := s.pool.Exec(t.Context(), strings.ReplaceAll(q, "TS", "now()")); err != nil {
			t.Fatalf("build a version-5 database: %v", err)
		}
	}
	s.Close()
	restore()
	s, err = OpenPostgres(t.Context(), url, 2)
	if err != nil {
		t.Fatalf("open and migrate: %v", err)
	}
	defer s.Close()
	checkPairKept(t, s)
}
