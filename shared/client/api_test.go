//go:build !js

package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// apiPeer answers the HTTP API from memory, with the protocol's bodies and
// status codes, and records the requests it saw.
type apiPeer struct {
	mu       sync.Mutex
	users    map[string]string
	rooms    []protocol.Room
	authSeen []string
}

func (a *apiPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.authSeen = append(a.authSeen, r.Header.Get("Authorization"))
	switch {
	case r.URL.Path == protocol.PathSignup || r.URL.Path == protocol.PathLogin:
		var cred protocol.Credentials
		if err := json.NewDecoder(r.Body).Decode(&cred); err != nil {
			fail(w, 400, protocol.ErrBadRequest, "bad JSON")
			return
		}
		if r.URL.Path == protocol.PathSignup {
			if _, ok := a.users[cred.Username]; ok {
				fail(w, 409, protocol.ErrConflict, "name taken")
				return
			}
			a.users[cred.Username] = cred.Password
			reply(w, 201, session(cred.Username))
			return
		}
		if pw, ok := a.users[cred.Username]; !ok || pw != cred.Password {
			fail(w, 401, protocol.ErrUnauthorized, "wrong name or password")
			return
		}
		reply(w, 200, session(cred.Username))
	case r.URL.Path == protocol.PathRefresh:
		w.Header().Set("Retry-After", "7")
		fail(w, 429, protocol.ErrRateLimited, "slow down")
	case r.URL.Path == protocol.PathLogout:
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == protocol.PathRooms && r.Header.Get("Authorization") != "Bearer access-alice":
		fail(w, 401, protocol.ErrUnauthorized, "token required")
	case r.URL.Path == protocol.PathRooms && r.Method == http.MethodGet:
		reply(w, 200, protocol.RoomList{Rooms: a.rooms})
	case r.URL.Path == protocol.PathRooms && r.Method == http.MethodPost:
		var cr protocol.CreateRoom
		_ = json.NewDecoder(r.Body).Decode(&cr)
		for _, room := range a.rooms {
			if room.Name == cr.Name {
				fail(w, 409, protocol.ErrConflict, "room exists")
				return
			}
		}
		room := protocol.Room{Name: cr.Name, Epoch: 1, CreatedBy: "alice", CreatedAt: time.Now().UnixMilli()}
		a.rooms = append(a.rooms, room)
		reply(w, 201, room)
	default:
		http.Error(w, "no such thing", http.StatusBadGateway) // not a protocol body
	}
}

func session(user string) protocol.Session {
	return protocol.Session{User: user, AccessToken: "access-" + user, RefreshToken: "refresh-" + user, ExpiresAt: 42}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	reply(w, status, protocol.APIError{Error: protocol.APIErrorBody{Code: code, Message: msg}})
}

func TestAPI(t *testing.T) {
	peer := &apiPeer{users: map[string]string{}, rooms: []protocol.Room{{Name: "general", Epoch: 1, Head: 9}}}
	srv := httptest.NewServer(peer)
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	api := NewAPI(srv.URL+"/", hc)
	ctx := context.Background()
	cred := protocol.Credentials{Username: "alice", Password: "long enough"}

	s, err := api.Signup(ctx, cred)
	if err != nil || s != session("alice") {
		t.Fatalf("Signup = %+v, %v", s, err)
	}
	var ae *APIError
	if _, err := api.Signup(ctx, cred); !errors.As(err, &ae) || ae.Status != 409 || ae.Code != protocol.ErrConflict {
		t.Fatalf("second Signup = %v, want 409 conflict", err)
	}
	if s, err := api.Login(ctx, cred); err != nil || s.AccessToken != "access-alice" {
		t.Fatalf("Login = %+v, %v", s, err)
	}
	_, err = api.Login(ctx, protocol.Credentials{Username: "alice", Password: "wrong password"})
	if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &ae) || ae.Message != "wrong name or password" {
		t.Fatalf("Login with a wrong password = %v, want 401 unauthorized", err)
	}
	_, err = api.Refresh(ctx, protocol.RefreshRequest{RefreshToken: "refresh-alice"})
	if !errors.As(err, &ae) || ae.Code != protocol.ErrRateLimited || ae.RetryAfter != 7*time.Second {
		t.Fatalf("Refresh = %v, want rate_limited with RetryAfter 7s", err)
	}
	if err := api.Logout(ctx, protocol.RefreshRequest{RefreshToken: "refresh-alice"}); err != nil {
		t.Fatalf("Logout = %v", err)
	}

	if _, err := api.Rooms(ctx, "forged"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Rooms with a bad token = %v", err)
	}
	rooms, err := api.Rooms(ctx, "access-alice")
	if err != nil || len(rooms) != 1 || rooms[0].Head != 9 {
		t.Fatalf("Rooms = %+v, %v", rooms, err)
	}
	if r, err := api.CreateRoom(ctx, "access-alice", "random"); err != nil || r.Name != "random" || r.Epoch != 1 {
		t.Fatalf("CreateRoom = %+v, %v", r, err)
	}
	if _, err := api.CreateRoom(ctx, "access-alice", "random"); !errors.As(err, &ae) || ae.Status != 409 {
		t.Fatalf("CreateRoom twice = %v, want 409", err)
	}
	if _, err := api.CreateRoom(ctx, "access-alice", "Bad Name"); err == nil {
		t.Fatal("invalid room name sent")
	}
	if peer.authSeen[len(peer.authSeen)-1] != "Bearer access-alice" {
		t.Fatalf("Authorization header %q", peer.authSeen[len(peer.authSeen)-1])
	}

	// A body that is not an APIError still gives a status and a code.
	_, err = NewAPI(srv.URL+"/nowhere", hc).Login(ctx, cred)
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Code != protocol.ErrUnavailable || ae.Message != "no such thing" {
		t.Fatalf("non-protocol failure = %v", err)
	}
}

func TestWebSocketURL(t *testing.T) {
	cases := map[string]string{
		"http://localhost:8080":       "ws://localhost:8080/ws",
		"https://chat.example.com/":   "wss://chat.example.com/ws",
		"https://example.com/parley/": "wss://example.com/parley/ws",
		"ws://h:1?x=y":                "ws://h:1/ws",
	}
	for in, want := range cases {
		if got, err := WebSocketURL(in); err != nil || got != want {
			t.Errorf("WebSocketURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://h", "localhost:8080", "http://", "::"} {
		if got, err := WebSocketURL(bad); err == nil {
			t.Errorf("WebSocketURL(%q) = %q, want an error", bad, got)
		}
	}
}

func TestNewCID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		cid := NewCID()
		f := protocol.Frame{Type: protocol.TypeSend, Room: "r", CID: cid, Body: "x"}
		if err := protocol.ValidateClient(f); err != nil || len(cid) != 26 || seen[cid] {
			t.Fatalf("NewCID() = %q (%v, duplicate %v)", cid, err, seen[cid])
		}
		seen[cid] = true
	}
}
