package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

const sqliteSessionCols = `id, user_id, user_agent, created_at, last_seen, expires_at, ended_at`

// CreateSession stores a session and its first refresh token.
func (s *SQLite) CreateSession(ctx context.Context, sess Session, first RefreshToken) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, user_agent, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			sess.ID, sess.UserID, sess.UserAgent, sess.CreatedAt.UnixMilli(), sess.LastSeen.UnixMilli(), sess.ExpiresAt.UnixMilli())
		if err != nil {
			return sqliteErr(err)
		}
		first.SessionID = sess.ID
		return sqliteInsertToken(ctx, tx, first)
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

func sqliteInsertToken(ctx context.Context, tx *sql.Tx, t RefreshToken) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, expires_at) VALUES (?, ?, ?)`,
		t.Hash, t.SessionID, t.ExpiresAt.UnixMilli())
	return sqliteErr(err)
}

// RotateRefreshToken exchanges a refresh token within its family; see
// Store.RotateRefreshToken.
func (s *SQLite) RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, at time.Time, grace time.Duration) (Rotation, error) {
	var rot Rotation
	replayed := false
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var rotatedAt int64
		sess, err := sqliteScanSession(tx.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.user_agent, s.created_at, s.last_seen, s.expires_at, s.ended_at, t.rotated_at
			FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
			WHERE t.hash = ? AND t.expires_at > ? AND s.expires_at > ? AND s.ended_at = 0`, oldHash, at.UnixMilli(), at.UnixMilli()), &rotatedAt)
		if err != nil {
			return err
		}
		rot.Session = sess
		if rotatedAt != 0 && at.Sub(fromMillis(rotatedAt)) >= grace {
			replayed = true
			return sqliteEnd(ctx, tx, sess.ID)
		}
		if rotatedAt == 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET rotated_at = ? WHERE hash = ?`, at.UnixMilli(), oldHash); err != nil {
				return sqliteErr(err)
			}
		}
		next.SessionID = sess.ID
		if err := sqliteInsertToken(ctx, tx, next); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id = ?`, at.UnixMilli(), sess.ID); err != nil {
			return sqliteErr(err)
		}
		rot.Session.LastSeen = at.UTC().Truncate(time.Millisecond)
		rot.User, err = sqliteScanUser(tx.QueryRowContext(ctx,
			`SELECT id, name, password_hash, created_at FROM users WHERE id = ?`, sess.UserID))
		return err
	})
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	if replayed {
		return rot, fmt.Errorf("rotate refresh token of session %s: %w", rot.Session.ID, ErrReplayed)
	}
	return rot, nil
}

// sqliteScanSession scans sqliteSessionCols and then extra.
func sqliteScanSession(row sqliteRow, extra ...any) (Session, error) {
	var s Session
	var created, seen, expires, ended int64
	dest := append([]any{&s.ID, &s.UserID, &s.UserAgent, &created, &seen, &expires, &ended}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Session{}, sqliteErr(err)
	}
	s.CreatedAt, s.LastSeen, s.ExpiresAt = fromMillis(created), fromMillis(seen), fromMillis(expires)
	if ended != 0 {
		s.EndedAt = fromMillis(ended)
	}
	return s, nil
}

// SessionByToken finds the session a refresh token belongs to.
func (s *SQLite) SessionByToken(ctx context.Context, hash string) (Session, error) {
	sess, err := sqliteScanSession(s.r.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.user_agent, s.created_at, s.last_seen, s.expires_at, s.ended_at
		FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?`, hash))
	if err != nil {
		return Session{}, fmt.Errorf("find session by token: %w", err)
	}
	return sess, nil
}

// Session finds a session by id.
func (s *SQLite) Session(ctx context.Context, id string) (Session, error) {
	sess, err := sqliteScanSession(s.r.QueryRowContext(ctx, `SELECT `+sqliteSessionCols+` FROM sessions WHERE id = ?`, id))
	if err != nil {
		return Session{}, fmt.Errorf("find session: %w", err)
	}
	return sess, nil
}

// Sessions lists a user's live sessions, oldest first.
func (s *SQLite) Sessions(ctx context.Context, userID int64, at time.Time) ([]Session, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sqliteSessionCols+` FROM sessions
		WHERE user_id = ? AND expires_at > ? AND ended_at = 0 ORDER BY created_at, id`, userID, at.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", sqliteErr(err))
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		sess, err := sqliteScanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", sqliteErr(err))
	}
	return out, nil
}

// sqliteEnd ends session id: it marks it ended and deletes its tokens.
func sqliteEnd(ctx context.Context, tx *sql.Tx, id string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at = 0`, now().UnixMilli(), id); err != nil {
		return sqliteErr(err)
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE session_id = ?`, id)
	return sqliteErr(err)
}

// EndSession ends one of the user's live sessions.
func (s *SQLite) EndSession(ctx context.Context, userID int64, id string) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var found string
		err := tx.QueryRowContext(ctx, `SELECT id FROM sessions WHERE id = ? AND user_id = ? AND ended_at = 0`, id, userID).Scan(&found)
		if err != nil {
			return sqliteErr(err)
		}
		return sqliteEnd(ctx, tx, id)
	})
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// EndSessions ends every live session of the user but except.
func (s *SQLite) EndSessions(ctx context.Context, userID int64, except string) ([]string, error) {
	var ended []string
	err := s.writeTx(ctx, func(tx *sql.Tx) (err error) {
		ended, err = sqliteEndSessions(ctx, tx, userID, except)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	return ended, nil
}

func sqliteEndSessions(ctx context.Context, tx *sql.Tx, userID int64, except string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `UPDATE sessions SET ended_at = ? WHERE user_id = ? AND id <> ? AND ended_at = 0 RETURNING id`,
		now().UnixMilli(), userID, except)
	if err != nil {
		return nil, sqliteErr(err)
	}
	var ended []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, sqliteErr(err)
		}
		ended = append(ended, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, sqliteErr(err)
	}
	for _, id := range ended {
		if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE session_id = ?`, id); err != nil {
			return nil, sqliteErr(err)
		}
	}
	return ended, nil
}

// PurgeExpired deletes expired refresh tokens and long-gone sessions.
func (s *SQLite) PurgeExpired(ctx context.Context, at time.Time, keep time.Duration) (int64, error) {
	var total int64
	cutoff := at.Add(-keep).UnixMilli()
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM refresh_tokens WHERE expires_at <= ?`, []any{at.UnixMilli()}},
			{`DELETE FROM sessions WHERE expires_at <= ? OR (ended_at <> 0 AND ended_at <= ?)`, []any{cutoff, cutoff}},
		} {
			res, err := tx.ExecContext(ctx, q.sql, q.args...)
			if err != nil {
				return sqliteErr(err)
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired sessions: %w", err)
	}
	return total, nil
}

// endedBatch is how many ids one EndedSessions query names (SQLite
// allows 32766 parameters).
const endedBatch = 500

// EndedSessions returns those of ids whose session has ended.
func (s *SQLite) EndedSessions(ctx context.Context, ids []string) ([]string, error) {
	var ended []string
	for len(ids) > 0 {
		n := min(len(ids), endedBatch)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		ids = ids[n:]
		rows, err := s.r.QueryContext(ctx, `SELECT id FROM sessions WHERE ended_at <> 0 AND id IN (?`+strings.Repeat(",?", n-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("find ended sessions: %w", sqliteErr(err))
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("find ended sessions: %w", sqliteErr(err))
			}
			ended = append(ended, id)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("find ended sessions: %w", sqliteErr(err))
		}
	}
	return ended, nil
}
