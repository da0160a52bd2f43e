package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// pgMigrationLock is the advisory lock key that serialises migrations of
// one database across nodes.
const pgMigrationLock int64 = 0x7061726c6579 // "parley"

// pgMigrations is the PostgreSQL schema history, applied in order.
var pgMigrations = []migration{
	{version: 1, name: "initial schema", sql: `
CREATE TABLE users (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name          TEXT        NOT NULL,
	name_key      TEXT        NOT NULL UNIQUE,
	password_hash TEXT        NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE refresh_tokens (
	hash       TEXT        PRIMARY KEY,
	user_id    BIGINT      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
CREATE TABLE rooms (
	name       TEXT        PRIMARY KEY,
	epoch      BIGINT      NOT NULL,
	head       BIGINT      NOT NULL DEFAULT 0,
	created_by TEXT        NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE memberships (
	room      TEXT        NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
	user_name TEXT        NOT NULL,
	joined_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (room, user_name)
);
CREATE TABLE messages (
	room   TEXT        NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
	seq    BIGINT      NOT NULL,
	author TEXT        NOT NULL,
	body   TEXT        NOT NULL,
	cid    TEXT        NOT NULL DEFAULT '',
	ts     TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (room, seq)
);
CREATE UNIQUE INDEX messages_author_cid ON messages(author, cid) WHERE cid <> '';
`},
	// Sessions: see the SQLite migration of the same version.
	{version: 2, name: "sessions and token families", sql: `
CREATE TABLE sessions (
	id         TEXT        PRIMARY KEY,
	user_id    BIGINT      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	user_agent TEXT        NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL,
	last_seen  TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	ended_at   TIMESTAMPTZ
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);
INSERT INTO sessions (id, user_id, created_at, last_seen, expires_at)
	SELECT 'legacy-' || left(hash, 32), user_id, expires_at - interval '30 days', expires_at - interval '30 days', expires_at
	FROM refresh_tokens;
ALTER TABLE refresh_tokens ADD COLUMN session_id TEXT REFERENCES sessions(id) ON DELETE CASCADE;
UPDATE refresh_tokens SET session_id = 'legacy-' || left(hash, 32);
ALTER TABLE refresh_tokens ALTER COLUMN session_id SET NOT NULL;
ALTER TABLE refresh_tokens DROP COLUMN user_id;
ALTER TABLE refresh_tokens ADD COLUMN rotated_at TIMESTAMPTZ;
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens(expires_at);
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMPTZ;
`},
	// Conversations: see the SQLite migration of the same version.
	{version: 3, name: "room kinds, roles, bans and direct rooms", sql: `
ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'public';
ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
ALTER TABLE rooms ADD COLUMN roster BIGINT NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
INSERT INTO memberships (room, user_name, joined_at)
	SELECT r.name, u.name, r.created_at FROM rooms r JOIN users u ON u.name = r.created_by AND u.deleted_at IS NULL
	ON CONFLICT (room, user_name) DO NOTHING;
UPDATE memberships m SET role = 'owner' FROM rooms r WHERE r.name = m.room AND r.created_by = m.user_name;
CREATE INDEX memberships_user ON memberships(user_name);
CREATE TABLE bans (
	room      TEXT        NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
	user_name TEXT        NOT NULL,
	banned_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (room, user_name)
);
CREATE TABLE direct_rooms (
	key_a  TEXT NOT NULL,
	key_b  TEXT NOT NULL,
	user_a TEXT NOT NULL,
	user_b TEXT NOT NULL,
	room   TEXT NOT NULL UNIQUE REFERENCES rooms(name) ON DELETE CASCADE,
	PRIMARY KEY (key_a, key_b),
	CHECK (key_a < key_b)
);
`},
	// Read markers and mentions: see the SQLite migration of the same
	// version.
	{version: 4, name: "read markers and mentions", sql: `
ALTER TABLE memberships ADD COLUMN last_read BIGINT NOT NULL DEFAULT 0;
UPDATE memberships m SET last_read = r.head FROM rooms r WHERE r.name = m.room;
CREATE TABLE mentions (
	name_key TEXT   NOT NULL,
	room     TEXT   NOT NULL,
	seq      BIGINT NOT NULL,
	PRIMARY KEY (name_key, room, seq),
	FOREIGN KEY (room, seq) REFERENCES messages(room, seq) ON DELETE CASCADE
);
CREATE INDEX mentions_message ON mentions(room, seq);
CREATE FUNCTION memberships_read_from_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.last_read = 0 THEN
		SELECT r.head INTO NEW.last_read FROM rooms r WHERE r.name = NEW.room;
		NEW.last_read := COALESCE(NEW.last_read, 0);
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER memberships_read_from_head BEFORE INSERT ON memberships
	FOR EACH ROW EXECUTE FUNCTION memberships_read_from_head();
`},
	// Edits and deletions: see the SQLite migration of the same version.
	{version: 5, name: "message edits and deletions", sql: `
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN target BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX messages_target ON messages(room, target) WHERE target > 0;
`},
	// Group direct rooms: see the SQLite migration of the same version.
	// The pair is sorted bytewise here (COLLATE "C"), as Go sorts the
	// keys of a new set, whatever the database's collation.
	{version: 6, name: "direct rooms for groups", sql: `
CREATE TABLE direct_sets (
	set_key TEXT NOT NULL PRIMARY KEY,
	users   TEXT NOT NULL,
	room    TEXT NOT NULL UNIQUE REFERENCES rooms(name) ON DELETE CASCADE
);
INSERT INTO direct_sets (set_key, users, room)
	SELECT CASE WHEN key_a COLLATE "C" < key_b COLLATE "C" THEN key_a || ' ' || key_b ELSE key_b || ' ' || key_a END,
		CASE WHEN key_a COLLATE "C" < key_b COLLATE "C" THEN user_a || ' ' || user_b ELSE user_b || ' ' || user_a END,
		room
	FROM direct_rooms;
DROP TABLE direct_rooms;
`},
	// Reactions: see the SQLite migration of the same version.
	{version: 7, name: "message reactions", sql: `
ALTER TABLE messages ADD COLUMN reacted BIGINT NOT NULL DEFAULT 0;
CREATE TABLE reactions (
	room      TEXT   NOT NULL,
	target    BIGINT NOT NULL,
	emoji     TEXT   NOT NULL,
	user_key  TEXT   NOT NULL,
	user_name TEXT   NOT NULL,
	PRIMARY KEY (room, target, emoji, user_key),
	FOREIGN KEY (room, target) REFERENCES messages(room, seq) ON DELETE CASCADE
);
`},
}

// migrate applies the migrations the database lacks in one transaction,
// holding an advisory lock so that nodes starting together take turns.
func (p *Postgres) migrate(ctx context.Context) error {
	err := p.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgMigrationLock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER     PRIMARY KEY,
			name       TEXT        NOT NULL,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("read schema versions: %w", err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("read schema versions: %w", err)
		}
		applied := make(map[int]bool, len(versions))
		for _, v := range versions {
			applied[int(v)] = true
		}
		if err := checkApplied(applied, pgMigrations); err != nil {
			return err
		}
		for _, m := range pgMigrations {
			if applied[m.version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %d (%s): %w", m.version, m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("record migration %d: %w", m.version, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
