package store

import (
	"context"
	"time"
)

// WithTimeout returns s with a deadline of d on every call, so that a stuck
// database (a full pool, a lock, a network that drops packets) fails the
// call with context.DeadlineExceeded instead of blocking its caller: the
// API and the WebSocket answer that unavailable, and clients retry.
func WithTimeout(s Store, d time.Duration) Store { return timeoutStore{s: s, d: d} }

type timeoutStore struct {
	s Store
	d time.Duration
}

var _ Store = timeoutStore{}

func (t timeoutStore) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, t.d)
}

func (t timeoutStore) CreateUser(ctx context.Context, name, hash string) (User, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.CreateUser(ctx, name, hash)
}

func (t timeoutStore) UserByName(ctx context.Context, name string) (User, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.UserByName(ctx, name)
}

func (t timeoutStore) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.SetPasswordHash(ctx, userID, hash)
}

func (t timeoutStore) DeleteUser(ctx context.Context, userID int64) ([]string, []Heir, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.DeleteUser(ctx, userID)
}

func (t timeoutStore) CreateSession(ctx context.Context, sess Session, first RefreshToken) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.CreateSession(ctx, sess, first)
}

func (t timeoutStore) RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, now time.Time, grace time.Duration) (Rotation, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.RotateRefreshToken(ctx, oldHash, next, now, grace)
}

func (t timeoutStore) SessionByToken(ctx context.Context, hash string) (Session, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.SessionByToken(ctx, hash)
}

func (t timeoutStore) EndedSessions(ctx context.Context, ids []string) ([]string, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.EndedSessions(ctx, ids)
}

func (t timeoutStore) Session(ctx context.Context, id string) (Session, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Session(ctx, id)
}

func (t timeoutStore) Sessions(ctx context.Context, userID int64, now time.Time) ([]Session, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Sessions(ctx, userID, now)
}

func (t timeoutStore) EndSession(ctx context.Context, userID int64, id string) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.EndSession(ctx, userID, id)
}

func (t timeoutStore) EndSessions(ctx context.Context, userID int64, except string) ([]string, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.EndSessions(ctx, userID, except)
}

func (t timeoutStore) PurgeExpired(ctx context.Context, now time.Time, keep time.Duration) (int64, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.PurgeExpired(ctx, now, keep)
}

func (t timeoutStore) CreateRoom(ctx context.Context, name, createdBy string) (Room, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.CreateRoom(ctx, name, createdBy)
}

func (t timeoutStore) EnsureRoom(ctx context.Context, name string) (Room, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.EnsureRoom(ctx, name)
}

func (t timeoutStore) Room(ctx context.Context, name string) (Room, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Room(ctx, name)
}

func (t timeoutStore) Rooms(ctx context.Context) ([]Room, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Rooms(ctx)
}

func (t timeoutStore) Join(ctx context.Context, room, user string) (bool, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Join(ctx, room, user)
}

func (t timeoutStore) Members(ctx context.Context, room string) ([]string, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Members(ctx, room)
}

func (t timeoutStore) CreateRoomOf(ctx context.Context, name, kind, owner string) (Room, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.CreateRoomOf(ctx, name, kind, owner)
}

func (t timeoutStore) DirectRoom(ctx context.Context, caller string, others ...string) (Room, bool, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.DirectRoom(ctx, caller, others...)
}

func (t timeoutStore) Access(ctx context.Context, room, user string) (Access, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Access(ctx, room, user)
}

func (t timeoutStore) RoomsOf(ctx context.Context, user string) ([]MemberRoom, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.RoomsOf(ctx, user)
}

func (t timeoutStore) Roster(ctx context.Context, room string) ([]Member, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Roster(ctx, room)
}

func (t timeoutStore) AddMember(ctx context.Context, room, user, role string) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.AddMember(ctx, room, user, role)
}

func (t timeoutStore) SetRole(ctx context.Context, room, user, role string) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.SetRole(ctx, room, user, role)
}

func (t timeoutStore) RemoveMember(ctx context.Context, room, user string, ban bool) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.RemoveMember(ctx, room, user, ban)
}

func (t timeoutStore) Unban(ctx context.Context, room, user string) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Unban(ctx, room, user)
}

func (t timeoutStore) Bans(ctx context.Context, room string) ([]Ban, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Bans(ctx, room)
}

func (t timeoutStore) LeaveRoom(ctx context.Context, room, user string) (string, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.LeaveRoom(ctx, room, user)
}

func (t timeoutStore) DeleteRoom(ctx context.Context, room string) ([]string, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.DeleteRoom(ctx, room)
}

func (t timeoutStore) SetTopic(ctx context.Context, room, topic string) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.SetTopic(ctx, room, topic)
}

func (t timeoutStore) SetReadMarker(ctx context.Context, room, user string, offset int64) (int64, bool, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.SetReadMarker(ctx, room, user, offset)
}

func (t timeoutStore) Append(ctx context.Context, m Message) (Message, bool, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Append(ctx, m)
}

func (t timeoutStore) AppendAll(ctx context.Context, ms []Message) ([]Appended, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.AppendAll(ctx, ms)
}

func (t timeoutStore) History(ctx context.Context, room string, p Page) ([]Message, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.History(ctx, room, p)
}

func (t timeoutStore) Amend(ctx context.Context, e Message, moderator bool) (Message, bool, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Amend(ctx, e, moderator)
}

func (t timeoutStore) React(ctx context.Context, e Message) (Message, bool, error) {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.React(ctx, e)
}

func (t timeoutStore) Ping(ctx context.Context) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Ping(ctx)
}

func (t timeoutStore) Close() error { return t.s.Close() }
