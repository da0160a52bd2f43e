package store

import (
	"context"
	"database/sql"
	"fmt"
)

// sqliteMigrations is the SQLite schema history, applied in order.
// Timestamps are unix milliseconds.
var sqliteMigrations = []migration{
	{version: 1, name: "initial schema", sql: `
CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	name          TEXT    NOT NULL,
	name_key      TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL,
	created_at    INTEGER NOT NULL
);
CREATE TABLE refresh_tokens (
	hash       TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
CREATE TABLE rooms (
	name       TEXT    PRIMARY KEY,
	epoch      INTEGER NOT NULL,
	head       INTEGER NOT NULL DEFAULT 0,
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE memberships (
	room      TEXT    NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
	user_name TEXT    NOT NULL,
	joined_at INTEGER NOT NULL,
	PRIMARY KEY (room, user_name)
);
CREATE TABLE messages (
	room   TEXT    NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
	seq    INTEGER NOT NULL,
	author TEXT    NOT NULL,
	body   TEXT    NOT NULL,
	cid    TEXT    NOT NULL DEFAULT '',
	ts     INTEGER NOT NULL,
	PRIMARY KEY (room, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_author_cid ON messages(author, cid) WHERE cid <> '';
`},
	// Sessions: every refresh token belongs to one (its family); a
	// rotated token is kept (rotated_at) to detect replay. Each token
	// from before becomes a session of its own. Deleted accounts keep
	// their row as a tombstone (deleted_at) so the name stays reserved.
	{version: 2, name: "sessions and token families", sql: `
CREATE TABLE sessions (
	id         TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	user_agent TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	ended_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);
INSERT INTO sessions (id, user_id, created_at, last_seen, expires_at)
	SELECT 'legacy-' || substr(hash, 1, 32), user_id, expires_at - 2592000000, expires_at - 2592000000, expires_at
	FROM refresh_tokens;
CREATE TABLE refresh_tokens_v2 (
	hash       TEXT    PRIMARY KEY,
	session_id TEXT    NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL,
	rotated_at INTEGER NOT NULL DEFAULT 0
);
INSERT INTO refresh_tokens_v2 (hash, session_id, expires_at)
	SELECT hash, 'legacy-' || substr(hash, 1, 32), expires_at FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_v2 RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens(expires_at);
ALTER TABLE users ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0;
`},
	// Conversations: room kinds (every existing room becomes public, its
	// history untouched), member roles (a room's creator, if their account
	// is live, becomes its owner), bans, and one direct room per pair of
	// users, unique on the pair's name keys (key_a < key_b).
	{version: 3, name: "room kinds, roles, bans and direct rooms", sql: `
ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'public';
ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
ALTER TABLE rooms ADD COLUMN roster INTEGER NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
INSERT INTO memberships (room, user_name, joined_at)
	SELECT r.name, u.name, r.created_at FROM rooms r JOIN users u ON u.name = r.created_by AND u.deleted_at = 0
	WHERE true ON CONFLICT (room, user_name) DO NOTHING;
UPDATE memberships SET role = 'owner'
	WHERE EXISTS (SELECT 1 FROM rooms r WHERE r.name = memberships.room AND r.created_by = memberships.user_name);
CREATE INDEX memberships_user ON memberships(user_name);
CREATE TABLE bans (
	room      TEXT    NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
	user_name TEXT    NOT NULL,
	banned_at INTEGER NOT NULL,
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
	// Read markers: each member's last read offset per room (existing
	// members have read everything so far, so nobody starts with the
	// whole history unread), and who each message mentions (@name, by
	// name key), so that the room list counts unread messages and
	// mentions with one query. Messages from before have no mention rows:
	// they are read. A new member (join, invite, a new room) starts at the
	// room's head (the trigger), whichever statement inserts them: what
	// was said before they came is not unread.
	{version: 4, name: "read markers and mentions", sql: `
ALTER TABLE memberships ADD COLUMN last_read INTEGER NOT NULL DEFAULT 0;
UPDATE memberships SET last_read = COALESCE((SELECT r.head FROM rooms r WHERE r.name = memberships.room), 0);
CREATE TABLE mentions (
	name_key TEXT    NOT NULL,
	room     TEXT    NOT NULL,
	seq      INTEGER NOT NULL,
	PRIMARY KEY (name_key, room, seq),
	FOREIGN KEY (room, seq) REFERENCES messages(room, seq) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX mentions_message ON mentions(room, seq);
CREATE TRIGGER memberships_read_from_head AFTER INSERT ON memberships WHEN NEW.last_read = 0
BEGIN
	UPDATE memberships SET last_read = (SELECT r.head FROM rooms r WHERE r.name = NEW.room)
	WHERE room = NEW.room AND user_name = NEW.user_name;
END;
`},
	// Edits and deletions: an event row
	// names the message it changes (kind, target); the message keeps its
	// latest state (edited: the offset of its latest edit; deleted).
	{version: 5, name: "message edits and deletions", sql: `
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN target INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_target ON messages(room, target) WHERE target > 0;
`},
	// Group direct rooms: one direct room per set of 2 to
	// protocol.MaxDirectUsers people, unique on set_key (their name keys,
	// sorted bytewise, joined by spaces; names hold none); users keeps
	// their names, in the same order. Every pair's room keeps its
	// identity: its set is the pair (key_a < key_b already sorts it).
	{version: 6, name: "direct rooms for groups", sql: `
CREATE TABLE direct_sets (
	set_key TEXT NOT NULL PRIMARY KEY,
	users   TEXT NOT NULL,
	room    TEXT NOT NULL UNIQUE REFERENCES rooms(name) ON DELETE CASCADE
);
INSERT INTO direct_sets (set_key, users, room)
	SELECT key_a || ' ' || key_b, user_a || ' ' || user_b, room FROM direct_rooms;
DROP TABLE direct_rooms;
`},
	// Reactions: one row per user, emoji and message (user_key is the
	// user's name key, so one reaction per user however the name is
	// spelt); a reaction event is a messages row (kind react or unreact,
	// target, body the emoji), and the message records the offset of its
	// latest one (reacted).
	{version: 7, name: "message reactions", sql: `
ALTER TABLE messages ADD COLUMN reacted INTEGER NOT NULL DEFAULT 0;
CREATE TABLE reactions (
	room      TEXT    NOT NULL,
	target    INTEGER NOT NULL,
	emoji     TEXT    NOT NULL,
	user_key  TEXT    NOT NULL,
	user_name TEXT    NOT NULL,
	PRIMARY KEY (room, target, emoji, user_key),
	FOREIGN KEY (room, target) REFERENCES messages(room, seq) ON DELETE CASCADE
) WITHOUT ROWID;
`},
}

// sqliteApplied reads the versions of the migrations applied.
func sqliteApplied(ctx context.Context, tx *sql.Tx) (map[int]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema versions: %w", err)
	}
	defer rows.Close()
	applied := make(map[int]bool)
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema versions: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema versions: %w", err)
	}
	return applied, nil
}

// migrate applies the migrations the database lacks, all in one
// transaction (which holds SQLite's write lock, so concurrent openers of
// one file take turns).
func (s *SQLite) migrate(ctx context.Context) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		applied, err := sqliteApplied(ctx, tx)
		if err != nil {
			return err
		}
		if err := checkApplied(applied, sqliteMigrations); err != nil {
			return err
		}
		for _, m := range sqliteMigrations {
			if applied[m.version] {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %d (%s): %w", m.version, m.name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, now().UnixMilli()); err != nil {
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
