package protocol

import (
	"strings"
	"testing"
)

func TestCheckTopic(t *testing.T) {
	good := []string{"", "Plans for Friday", "café ☕ and 日本語", strings.Repeat("é", MaxTopicRunes)}
	for _, s := range good {
		if err := CheckTopic(s); err != nil {
			t.Errorf("CheckTopic(%q): %v", s, err)
		}
	}
	bad := map[string]string{
		"two\nlines":                         ErrBadRequest,
		"tab\there":                          ErrBadRequest,
		"bidi \u202e trick":                  ErrBadRequest,
		"\xff":                               ErrBadRequest,
		strings.Repeat("a", MaxTopicRunes+1): ErrTooLarge,
	}
	for s, code := range bad {
		err := CheckTopic(s)
		de, ok := err.(*DecodeError)
		if !ok || de.Code != code {
			t.Errorf("CheckTopic(%.20q) = %v, want %s", s, err, code)
		}
	}
}

func TestKindsAndRoles(t *testing.T) {
	if !ValidKind(KindPublic) || !ValidKind(KindPrivate) || ValidKind(KindDirect) || ValidKind("") {
		t.Error("ValidKind: clients create public and private rooms only")
	}
	for _, r := range []string{RoleOwner, RoleModerator, RoleMember} {
		if !ValidRole(r) {
			t.Errorf("ValidRole(%q) = false", r)
		}
	}
	if ValidRole("admin") || ValidRole("") {
		t.Error("ValidRole accepts an unknown role")
	}
}

// FuzzCheckTopic: CheckTopic never panics, and what it accepts is valid
// UTF-8 of at most MaxTopicRunes without control characters.
func FuzzCheckTopic(f *testing.F) {
	for _, s := range []string{"", "hello", "a\nb", "\u202e", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckTopic(s) != nil {
			return
		}
		if strings.ContainsAny(s, "\n\r\t\x00") || strings.ContainsRune(s, '\u202e') {
			t.Fatalf("CheckTopic accepted %q", s)
		}
	})
}

func TestInboxRoom(t *testing.T) {
	a, b := InboxRoom("Alice"), InboxRoom("alice")
	if a != b || !ValidRoomName(a) || !ReservedRoomName(a) || a == InboxRoom("bob") {
		t.Fatalf("InboxRoom: %q, %q, %q", a, b, InboxRoom("bob"))
	}
	if !ReservedRoomName("dm-x") || ReservedRoomName("general") || ReservedRoomName("inbox") {
		t.Fatal("ReservedRoomName")
	}
}

func TestParseUserEvent(t *testing.T) {
	e, err := ParseUserEvent(`{"type":"invited","room":"club","by":"alice","kind":"private","future":1}`)
	if err != nil || e != (UserEvent{Type: UserInvited, Room: "club", By: "alice", Kind: KindPrivate}) {
		t.Fatalf("ParseUserEvent = %+v, %v", e, err)
	}
	for _, bad := range []string{``, `[]`, `{"room":"club"}`, `{"type":"invited"}`, `{"type":"invited","room":"Bad Room"}`, `{"type":"x","room":"a","by":"-no"}`, `{"type":1}`} {
		if _, err := ParseUserEvent(bad); err == nil {
			t.Errorf("ParseUserEvent(%q) accepted", bad)
		}
	}
}

// FuzzParseUserEvent: never panics; what it accepts names a valid room.
func FuzzParseUserEvent(f *testing.F) {
	for _, s := range []string{`{"type":"invited","room":"club","by":"alice"}`, `{"type":"removed","room":"a","reason":"kicked"}`, `{}`, `nul`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseUserEvent(s)
		if err != nil {
			return
		}
		if e.Type == "" || !ValidRoomName(e.Room) || (e.By != "" && !ValidUsername(e.By)) {
			t.Fatalf("ParseUserEvent(%q) accepted %+v", s, e)
		}
	})
}

func TestDirectRequestCheck(t *testing.T) {
	many := make([]string, MaxDirectUsers)
	for i := range many {
		many[i] = "user" + string(rune('a'+i))
	}
	good := []struct {
		req  DirectRequest
		want []string
	}{
		{DirectRequest{User: "bob"}, []string{"bob"}},
		{DirectRequest{Users: []string{"bob"}}, []string{"bob"}},
		{DirectRequest{Users: []string{"Bob", "carol"}}, []string{"Bob", "carol"}},
		{DirectRequest{Users: many[:MaxDirectUsers-1]}, many[:MaxDirectUsers-1]},
	}
	for _, tc := range good {
		got, err := tc.req.Check("Alice")
		if err != nil || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%+v.Check = %v, %v; want %v", tc.req, got, err, tc.want)
		}
	}
	bad := []struct {
		req  DirectRequest
		code string
		msg  string
	}{
		{DirectRequest{}, ErrBadRequest, "at least one"},
		{DirectRequest{User: "bob", Users: []string{"carol"}}, ErrBadRequest, "not both"},
		{DirectRequest{Users: many}, ErrTooLarge, "at most 8 people"},
		{DirectRequest{User: "alice"}, ErrBadRequest, "another user"},
		{DirectRequest{Users: []string{"ALICE"}}, ErrBadRequest, "another user"},
		{DirectRequest{Users: []string{"bob", "alice"}}, ErrBadRequest, "name only the others"},
		{DirectRequest{Users: []string{"bob", "carol", "BOB"}}, ErrBadRequest, `"BOB" is named twice`},
	}
	for _, tc := range bad {
		_, err := tc.req.Check("Alice")
		de, ok := err.(*DecodeError)
		if !ok || de.Code != tc.code || !strings.Contains(de.Msg, tc.msg) {
			t.Errorf("%+v.Check: %v, want %s containing %q", tc.req, err, tc.code, tc.msg)
		}
	}
}
