package ui

import (
	"context"
	"errors"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// The account page's calls. Each blocks on the API: run them from
// ctx.Async. A session the node already ended signs the user out (through
// withToken's refresh).

// Sessions lists the account's live sessions, oldest first; the one of
// this browser has Current set.
func (a *App) Sessions(ctx context.Context) ([]protocol.SessionInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var list []protocol.SessionInfo
	err := a.withToken(ctx, a.generation(), func(tok string) (err error) {
		list, err = a.api.Sessions(ctx, tok)
		return err
	})
	return list, err
}

// EndSession ends another session of the account: its sockets close and
// its tokens stop working, on every node.
func (a *App) EndSession(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return a.withToken(ctx, a.generation(), func(tok string) error {
		return a.api.EndSession(ctx, tok, id)
	})
}

// ChangePassword sets a new password. Every other session of the account
// ends; this one goes on.
func (a *App) ChangePassword(ctx context.Context, current, next string) error {
	if err := protocol.CheckPassword(next); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return a.withPassword(ctx, a.generation(), func(tok string) error {
		return a.api.ChangePassword(ctx, tok, protocol.ChangePassword{CurrentPassword: current, NewPassword: next})
	})
}

// SignOutEverywhere ends every session of the account, this one too, and
// signs this browser out.
func (a *App) SignOutEverywhere(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	const why = "You signed out everywhere."
	gen := a.expectEnd(why)
	err := a.withToken(ctx, gen, func(tok string) error {
		return a.api.EndAllSessions(ctx, tok)
	})
	if err != nil {
		a.expectEnd("")
		return err
	}
	a.expire(gen, why)
	return nil
}

// DeleteAccount deletes the account (its messages stay, under its name,
// which is never given out again) and signs this browser out.
func (a *App) DeleteAccount(ctx context.Context, password string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	const why = "Your account was deleted."
	gen := a.expectEnd(why)
	err := a.withPassword(ctx, gen, func(tok string) error {
		return a.api.DeleteAccount(ctx, tok, protocol.DeleteAccount{Password: password})
	})
	if err != nil {
		a.expectEnd("")
		return err
	}
	a.expire(gen, why)
	return nil
}

// withPassword calls f, a call that also answers a wrong password with
// 401, with an access token. After a 401 a refresh tells the two apart: a
// refused refresh means the session ended (and signs the user out), else
// it was the password.
func (a *App) withPassword(ctx context.Context, gen uint64, f func(tok string) error) error {
	tok, err := a.token(ctx)
	if err != nil {
		return err
	}
	err = f(tok)
	if errors.Is(err, client.ErrUnauthorized) {
		a.recheck(gen)
		if _, terr := a.token(ctx); terr != nil {
			return terr
		}
	}
	return err
}

// expectEnd says why the session is about to end ("" when it is not
// after all): the node may close the socket (session_ended) before the
// API call that ended the session answers, and the sign-in screen must
// give the user's reason, not "your session has ended". It returns the
// session's generation.
func (a *App) expectEnd(why string) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.endingWhy = why
	return a.gen
}

// generation returns the current session's generation.
func (a *App) generation() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gen
}
