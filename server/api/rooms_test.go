package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/shared/protocol"
)

func roomBody(name string) string {
	b, _ := json.Marshal(protocol.CreateRoom{Name: name})
	return string(b)
}

func TestRoomsNeedToken(t *testing.T) {
	e := newEnv(t, nil)
	s := e.signup("alice", "password1")
	expired := s
	cases := map[string][]string{
		"none":         nil,
		"empty bearer": {"Authorization", "Bearer "},
		"basic":        {"Authorization", "Basic YWxpY2U6cGFzc3dvcmQx"},
		"garbage":      {"Authorization", "Bearer not.a.jwt"},
		"refresh":      {"Authorization", "Bearer " + s.RefreshToken},
	}
	for name, hdr := range cases {
		for _, req := range []struct{ method, body string }{{"GET", ""}, {"POST", roomBody("sneaky")}} {
			r := e.do(req.method, protocol.PathRooms, req.body, hdr...)
			if r.status != http.StatusUnauthorized || r.apiError(t).Code != protocol.ErrUnauthorized {
				t.Errorf("%s %s: %d %s", req.method, name, r.status, r.body)
			}
			if r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: no WWW-Authenticate", req.method, name)
			}
		}
	}
	e.clock.Advance(auth.DefaultAccessTTL + time.Second)
	r := e.do("GET", protocol.PathRooms, "", bearer(expired)...)
	if r.status != http.StatusUnauthorized || r.apiError(t).Message != auth.ErrTokenExpired.Error() {
		t.Errorf("expired token: %d %s", r.status, r.body)
	}
	if _, err := e.store.Room(t.Context(), "sneaky"); err == nil {
		t.Error("an unauthenticated POST created a room")
	}
}

func TestCreateAndListRooms(t *testing.T) {
	e := newEnv(t, nil)
	s := e.signup("Alice", "password1")
	for _, name := range []string{"zeta", "alpha", "mid-room_1"} {
		r := e.do("POST", protocol.PathRooms, roomBody(name), bearer(s)...)
		if r.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", name, r.status, r.body)
		}
		var room protocol.Room
		if err := json.Unmarshal(r.body, &room); err != nil {
			t.Fatal(err)
		}
		if room.Name != name || room.CreatedBy != "Alice" || room.Epoch <= 0 || room.Head != 0 || room.CreatedAt <= 0 {
			t.Errorf("created room = %+v", room)
		}
	}
	r := e.do("GET", protocol.PathRooms, "", bearer(s)...)
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var list protocol.RoomList
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, room := range list.Rooms {
		names = append(names, room.Name)
	}
	if got := strings.Join(names, ","); got != "alpha,mid-room_1,zeta" {
		t.Errorf("rooms = %s", got)
	}
}

func TestEmptyRoomListIsArray(t *testing.T) {
	e := newEnv(t, nil)
	s := e.signup("alice", "password1")
	r := e.do("GET", protocol.PathRooms, "", bearer(s)...)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"rooms":[`) {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
}

func TestCreateRoomRejects(t *testing.T) {
	e := newEnv(t, nil)
	s := e.signup("alice", "password1")
	if r := e.do("POST", protocol.PathRooms, roomBody("taken"), bearer(s)...); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	roomNames := func() []string {
		t.Helper()
		rooms, err := e.store.Rooms(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rooms {
			names = append(names, r.Name+" "+strconv.FormatInt(r.Head, 10))
		}
		slices.Sort(names)
		return names
	}
	// The create also announced the room on the feed: what the rejected
	// requests must not change is what is there now.
	before := roomNames()
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"duplicate", roomBody("taken"), 409, protocol.ErrConflict},
		{"upper case", roomBody("Bad"), 400, protocol.ErrBadRequest},
		{"space", roomBody("bad name"), 400, protocol.ErrBadRequest},
		{"empty", roomBody(""), 400, protocol.ErrBadRequest},
		{"too long", roomBody(strings.Repeat("a", protocol.MaxRoomNameLen+1)), 400, protocol.ErrTooLarge},
		{"wrong type", `{"name":42}`, 400, protocol.ErrBadRequest},
		{"invalid JSON", `{"name":`, 400, protocol.ErrBadRequest},
	}
	for _, c := range cases {
		r := e.do("POST", protocol.PathRooms, c.body, bearer(s)...)
		if r.status != c.status || r.apiError(t).Code != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.code)
		}
	}
	if after := roomNames(); !slices.Equal(after, before) {
		t.Errorf("rooms and heads after rejected requests: %q, want %q", after, before)
	}
}
