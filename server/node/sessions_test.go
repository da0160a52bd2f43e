package node_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

const testPassword = "correct horse battery"

func login(t *testing.T, base, user, password string) protocol.Session {
	t.Helper()
	s, err := client.NewAPI(base, nil).Login(context.Background(), protocol.Credentials{Username: user, Password: password})
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return s
}

// liveSocket opens a raw socket authenticated with s's access token.
func liveSocket(t *testing.T, base string, s protocol.Session) *rawConn {
	t.Helper()
	c := dialRaw(t, base, base)
	if f := c.auth(s.AccessToken); f.Type != protocol.TypeWelcome {
		t.Fatalf("auth: %+v, want welcome", f)
	}
	return c
}

// wantEnded checks that s's access token is refused by the API and on a
// new socket, with the session-ended answers.
func wantEnded(t *testing.T, base string, s protocol.Session) {
	t.Helper()
	_, err := client.NewAPI(base, nil).Rooms(context.Background(), s.AccessToken)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("API call with an ended session's token: %v, want 401", err)
	}
	c := dialRaw(t, base, base)
	c.send(protocol.Frame{Type: protocol.TypeAuth, Token: s.AccessToken})
	c.expectClose(websocket.StatusCode(protocol.CloseSessionEnded))
}

// wantLive checks that s's access token still works.
func wantLive(t *testing.T, base string, s protocol.Session) {
	t.Helper()
	if _, err := client.NewAPI(base, nil).Rooms(context.Background(), s.AccessToken); err != nil {
		t.Fatalf("API call with a live session's token: %v", err)
	}
}

func TestLogoutEndsLiveSocketsAndTokens(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	a := signup(t, n.URL, "alice")
	b := login(t, n.URL, "alice", testPassword)
	sockA, sockB := liveSocket(t, n.URL, a), liveSocket(t, n.URL, b)
	if err := client.NewAPI(n.URL, nil).Logout(context.Background(), protocol.RefreshRequest{RefreshToken: a.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	sockA.expectClose(websocket.StatusCode(protocol.CloseSessionEnded))
	wantEnded(t, n.URL, a)
	// The other session is untouched.
	sockB.send(protocol.Frame{Type: protocol.TypePing, ID: "p"})
	if f := sockB.next(); f.Type != protocol.TypePong {
		t.Fatalf("other session's socket: %+v, want pong", f)
	}
	wantLive(t, n.URL, b)
	if _, err := client.NewAPI(n.URL, nil).Refresh(context.Background(), protocol.RefreshRequest{RefreshToken: a.RefreshToken}); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("refresh after logout: %v", err)
	}
}

func TestClientStopsWithSessionEnded(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	s := signup(t, n.URL, "carol")
	ch := newChatter(t, n.URL, s)
	ch.subscribe(t, protocol.DefaultRoom)
	if err := client.NewAPI(n.URL, nil).EndAllSessions(context.Background(), s.AccessToken); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ch.runErr:
		if !errors.Is(err, client.ErrSessionEnded) || !errors.Is(err, client.ErrUnauthorized) {
			t.Fatalf("Run = %v, want ErrSessionEnded (and ErrUnauthorized)", err)
		}
		ch.runErr <- err // for the cleanup
	case <-time.After(waitTimeout):
		t.Fatal("client kept running after sign out everywhere")
	}
}

func TestRefreshReplayEndsSession(t *testing.T) {
	t.Parallel()
	n := startNode(t, func(c *node.Config) { c.RefreshGrace = time.Millisecond })
	api := client.NewAPI(n.URL, nil)
	ctx := context.Background()
	first := signup(t, n.URL, "dave")
	second, err := api.Refresh(ctx, protocol.RefreshRequest{RefreshToken: first.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	sock := liveSocket(t, n.URL, second)
	// A thief replays the first token once the (1 ms) grace is over.
	testenv.Eventually(t, waitTimeout, "replay refused", func() error {
		_, err := api.Refresh(ctx, protocol.RefreshRequest{RefreshToken: first.RefreshToken})
		if errors.Is(err, client.ErrUnauthorized) {
			return nil
		}
		return errors.New("replay within the grace window still rotates")
	})
	sock.expectClose(websocket.StatusCode(protocol.CloseSessionEnded))
	wantEnded(t, n.URL, second)
	if _, err := api.Refresh(ctx, protocol.RefreshRequest{RefreshToken: second.RefreshToken}); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("the legitimate holder's token after the replay: %v", err)
	}
}

func TestAccountEndpoints(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	api := client.NewAPI(n.URL, nil)
	ctx := context.Background()
	other := signup(t, n.URL, "frank") // early: sign-ups and password checks share a rate limit
	one := signup(t, n.URL, "erin")
	two := login(t, n.URL, "erin", testPassword)
	three := login(t, n.URL, "erin", testPassword)
	list, err := api.Sessions(ctx, two.AccessToken)
	if err != nil || len(list) != 3 {
		t.Fatalf("sessions = %+v, %v", list, err)
	}
	var current, firstID string
	for _, s := range list {
		if s.Current {
			current = s.ID
		}
		if s.CreatedAt <= 0 || s.LastSeen < s.CreatedAt || s.ExpiresAt <= s.LastSeen || s.UserAgent == "" {
			t.Errorf("session %+v", s)
		}
	}
	firstID = list[0].ID
	if current == "" || current == firstID {
		t.Fatalf("current session %q in %+v", current, list)
	}
	// End the first session from the second.
	sock1 := liveSocket(t, n.URL, one)
	if err := api.EndSession(ctx, two.AccessToken, firstID); err != nil {
		t.Fatal(err)
	}
	sock1.expectClose(websocket.StatusCode(protocol.CloseSessionEnded))
	wantEnded(t, n.URL, one)
	var ae *client.APIError
	if err := api.EndSession(ctx, two.AccessToken, firstID); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Fatalf("ending it again: %v, want 404", err)
	}
	// Change password: wrong current one refused, then the others end.
	sock3 := liveSocket(t, n.URL, three)
	err = api.ChangePassword(ctx, two.AccessToken, protocol.ChangePassword{CurrentPassword: "wrong password", NewPassword: "new password 1"})
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("wrong current password: %v, want 401", err)
	}
	wantLive(t, n.URL, three)
	if err := api.ChangePassword(ctx, two.AccessToken, protocol.ChangePassword{CurrentPassword: testPassword, NewPassword: "new password 1"}); err != nil {
		t.Fatal(err)
	}
	sock3.expectClose(websocket.StatusCode(protocol.CloseSessionEnded))
	wantEnded(t, n.URL, three)
	wantLive(t, n.URL, two)
	if _, err := api.Login(ctx, protocol.Credentials{Username: "erin", Password: testPassword}); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("old password: %v", err)
	}
	// Delete the account: its messages stay, its name stays taken.
	sock2 := liveSocket(t, n.URL, two)
	sock2.send(protocol.Frame{Type: protocol.TypeSubscribe, Room: protocol.DefaultRoom})
	sock2.next() // subscribed
	sock2.send(protocol.Frame{Type: protocol.TypeSend, Room: protocol.DefaultRoom, CID: "c1", Body: "bye"})
	testenv.Eventually(t, waitTimeout, "ack", func() error {
		f, err := sock2.read(waitTimeout)
		if err != nil || f.Type == protocol.TypeAck {
			return err
		}
		return errors.New("no ack yet")
	})
	err = api.DeleteAccount(ctx, two.AccessToken, protocol.DeleteAccount{Password: testPassword})
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("delete with the old password: %v, want 401", err)
	}
	if err := api.DeleteAccount(ctx, two.AccessToken, protocol.DeleteAccount{Password: "new password 1"}); err != nil {
		t.Fatal(err)
	}
	sock2.expectClose(websocket.StatusCode(protocol.CloseSessionEnded))
	wantEnded(t, n.URL, two)
	if _, err := api.Signup(ctx, protocol.Credentials{Username: "Erin", Password: testPassword}); !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		t.Fatalf("signup with the deleted name: %v, want 409", err)
	}
	ch := newChatter(t, n.URL, other)
	ch.subscribe(t, protocol.DefaultRoom)
	testenv.Eventually(t, waitTimeout, "erin's message kept", func() error {
		msgs, _, err := ch.History(ctx, protocol.DefaultRoom, 0, 10)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Author == "erin" && m.Body == "bye" {
				return nil
			}
		}
		return errors.New("erin's message is gone")
	})
}

// TestSessionEndedFrameBeforeClose: a node closing a socket with 4502
// first sends an error frame session_ended (browsers cannot read the close
// code): on a live socket when the session ends, and in answer to auth
// with an ended session's token.
func TestSessionEndedFrameBeforeClose(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	s := signup(t, n.URL, "erin")
	sock := liveSocket(t, n.URL, s)
	if err := client.NewAPI(n.URL, nil).EndAllSessions(context.Background(), s.AccessToken); err != nil {
		t.Fatal(err)
	}
	wantEndedFrame := func(f protocol.Frame) {
		t.Helper()
		if f.Type != protocol.TypeError || f.Code != protocol.ErrSessionEnded || f.Ref != "" {
			t.Fatalf("before the close: %+v, want an error frame session_ended", f)
		}
	}
	wantEndedFrame(sock.next())
	sock.expectClose(websocket.StatusCode(protocol.CloseSessionEnded))
	again := dialRaw(t, n.URL, n.URL)
	wantEndedFrame(again.auth(s.AccessToken))
	again.expectClose(websocket.StatusCode(protocol.CloseSessionEnded))
}
