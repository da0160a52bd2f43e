package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

const pgSessionCols = `id, user_id, user_agent, created_at, last_seen, expires_at, ended_at`

func pgTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// CreateSession stores a session and its first refresh token.
func (p *Postgres) CreateSession(ctx context.Context, sess Session, first RefreshToken) error {
	err := p.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sessions (id, user_id, user_agent, created_at, last_seen, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			sess.ID, sess.UserID, sess.UserAgent, pgTime(sess.CreatedAt), pgTime(sess.LastSeen), pgTime(sess.ExpiresAt))
		if err != nil {
			return pgErr(err)
		}
		first.SessionID = sess.ID
		return pgInsertToken(ctx, tx, first)
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

func pgInsertToken(ctx context.Context, tx pgx.Tx, t RefreshToken) error {
	_, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, expires_at) VALUES ($1, $2, $3)`,
		t.Hash, t.SessionID, pgTime(t.ExpiresAt))
	return pgErr(err)
}

// RotateRefreshToken exchanges a refresh token within its family; see
// Store.RotateRefreshToken.
func (p *Postgres) RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, at time.Time, grace time.Duration) (Rotation, error) {
	var rot Rotation
	replayed := false
	at = pgTime(at)
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var rotatedAt *time.Time
		// FOR UPDATE: two nodes rotating one token take turns, so the
		// second sees rotated_at.
		sess, err := pgScanSession(tx.QueryRow(ctx, `SELECT s.id, s.user_id, s.user_agent, s.created_at, s.last_seen, s.expires_at, s.ended_at, t.rotated_at
			FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
			WHERE t.hash = $1 AND t.expires_at > $2 AND s.expires_at > $2 AND s.ended_at IS NULL FOR UPDATE`, oldHash, at), &rotatedAt)
		if err != nil {
			return err
		}
		rot.Session = sess
		if rotatedAt != nil && at.Sub(*rotatedAt) >= grace {
			replayed = true
			return pgEnd(ctx, tx, sess.ID)
		}
		if rotatedAt == nil {
			if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET rotated_at = $1 WHERE hash = $2`, at, oldHash); err != nil {
				return pgErr(err)
			}
		}
		next.SessionID = sess.ID
		if err := pgInsertToken(ctx, tx, next); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET last_seen = $1 WHERE id = $2`, at, sess.ID); err != nil {
			return pgErr(err)
		}
		rot.Session.LastSeen = at
		rot.User, err = pgScanUser(tx.QueryRow(ctx,
			`SELECT id, name, password_hash, created_at FROM users WHERE id = $1`, sess.UserID))
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

// pgScanSession scans pgSessionCols and then extra.
func pgScanSession(row pgx.Row, extra ...any) (Session, error) {
	var s Session
	var ended *time.Time
	dest := append([]any{&s.ID, &s.UserID, &s.UserAgent, &s.CreatedAt, &s.LastSeen, &s.ExpiresAt, &ended}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Session{}, pgErr(err)
	}
	s.CreatedAt, s.LastSeen, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeen.UTC(), s.ExpiresAt.UTC()
	if ended != nil {
		s.EndedAt = ended.UTC()
	}
	return s, nil
}

// SessionByToken finds the session a refresh token belongs to.
func (p *Postgres) SessionByToken(ctx context.Context, hash string) (Session, error) {
	sess, err := pgScanSession(p.pool.QueryRow(ctx, `SELECT s.id, s.user_id, s.user_agent, s.created_at, s.last_seen, s.expires_at, s.ended_at
		FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = $1`, hash))
	if err != nil {
		return Session{}, fmt.Errorf("find session by token: %w", err)
	}
	return sess, nil
}

// Session finds a session by id.
func (p *Postgres) Session(ctx context.Context, id string) (Session, error) {
	sess, err := pgScanSession(p.pool.QueryRow(ctx, `SELECT `+pgSessionCols+` FROM sessions WHERE id = $1`, id))
	if err != nil {
		return Session{}, fmt.Errorf("find session: %w", err)
	}
	return sess, nil
}

// Sessions lists a user's live sessions, oldest first.
func (p *Postgres) Sessions(ctx context.Context, userID int64, at time.Time) ([]Session, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+pgSessionCols+` FROM sessions
		WHERE user_id = $1 AND expires_at > $2 AND ended_at IS NULL ORDER BY created_at, id`, userID, pgTime(at))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", pgErr(err))
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		sess, err := pgScanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", pgErr(err))
	}
	return out, nil
}

// pgEnd ends session id: it marks it ended and deletes its tokens.
func pgEnd(ctx context.Context, tx pgx.Tx, id string) error {
	if _, err := tx.Exec(ctx, `UPDATE sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL`, now(), id); err != nil {
		return pgErr(err)
	}
	_, err := tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE session_id = $1`, id)
	return pgErr(err)
}

// EndSession ends one of the user's live sessions.
func (p *Postgres) EndSession(ctx context.Context, userID int64, id string) error {
	err := p.tx(ctx, func(tx pgx.Tx) error {
		var found string
		err := tx.QueryRow(ctx, `SELECT id FROM sessions WHERE id = $1 AND user_id = $2 AND ended_at IS NULL FOR UPDATE`, id, userID).Scan(&found)
		if err != nil {
			return pgErr(err)
		}
		return pgEnd(ctx, tx, id)
	})
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// EndSessions ends every live session of the user but except.
func (p *Postgres) EndSessions(ctx context.Context, userID int64, except string) ([]string, error) {
	var ended []string
	err := p.tx(ctx, func(tx pgx.Tx) (err error) {
		ended, err = pgEndSessions(ctx, tx, userID, except)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	return ended, nil
}

func pgEndSessions(ctx context.Context, tx pgx.Tx, userID int64, except string) ([]string, error) {
	rows, err := tx.Query(ctx, `UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND id <> $3 AND ended_at IS NULL RETURNING id`,
		now(), userID, except)
	if err != nil {
		return nil, pgErr(err)
	}
	ended, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, pgErr(err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE session_id = ANY($1)`, ended); err != nil {
		return nil, pgErr(err)
	}
	return ended, nil
}

// PurgeExpired deletes expired refresh tokens and long-gone sessions.
func (p *Postgres) PurgeExpired(ctx context.Context, at time.Time, keep time.Duration) (int64, error) {
	var total int64
	cutoff := pgTime(at.Add(-keep))
	err := p.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE expires_at <= $1`, pgTime(at))
		if err != nil {
			return pgErr(err)
		}
		total += tag.RowsAffected()
		tag, err = tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR ended_at <= $1`, cutoff)
		if err != nil {
			return pgErr(err)
		}
		total += tag.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired sessions: %w", err)
	}
	return total, nil
}

// EndedSessions returns those of ids whose session has ended, in one
// query.
func (p *Postgres) EndedSessions(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := p.pool.Query(ctx, `SELECT id FROM sessions WHERE ended_at IS NOT NULL AND id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("find ended sessions: %w", err)
	}
	ended, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find ended sessions: %w", err)
	}
	return ended, nil
}
