package state

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

func TestDayLabel(t *testing.T) {
	loc := time.FixedZone("X", 2*3600)
	now := time.Date(2025, 6, 15, 10, 0, 0, 0, loc)
	cases := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2025, 6, 15, 0, 0, 0, 0, loc), "Today"},
		{time.Date(2025, 6, 14, 23, 59, 0, 0, loc), "Yesterday"},
		{time.Date(2025, 6, 13, 12, 0, 0, 0, loc), "Friday, 13 June"},
		{time.Date(2024, 12, 31, 12, 0, 0, 0, loc), "31 December 2024"},
		// 23:30 UTC on the 14th is 01:30 on the 15th in loc.
		{time.Date(2025, 6, 14, 23, 30, 0, 0, time.UTC), "Today"},
	}
	for _, c := range cases {
		if got := DayLabel(c.at.UnixMilli(), now, loc); got != c.want {
			t.Errorf("DayLabel(%v) = %q, want %q", c.at, got, c.want)
		}
	}
}

func TestClock(t *testing.T) {
	ts := time.Date(2025, 6, 15, 7, 5, 59, 0, time.UTC).UnixMilli()
	if got := Clock(ts, time.UTC); got != "07:05" {
		t.Fatalf("Clock = %q", got)
	}
	if got := Clock(ts, time.FixedZone("Y", -8*3600)); got != "23:05" {
		t.Fatalf("Clock in UTC-8 = %q", got)
	}
}

func TestTypingLabel(t *testing.T) {
	cases := map[string][]string{
		"":                                  nil,
		"ann is typing…":                    {"ann"},
		"ann and bob are typing…":           {"ann", "bob"},
		"ann, bob and cy are typing…":       {"ann", "bob", "cy"},
		"ann, bob and 3 others are typing…": {"ann", "bob", "cy", "dee", "eve"},
	}
	for want, users := range cases {
		if got := TypingLabel(users); got != want {
			t.Errorf("TypingLabel(%v) = %q, want %q", users, got, want)
		}
	}
}

func TestTypingExpires(t *testing.T) {
	ty := Typing{}
	t0 := time.Unix(1000, 0)
	ty.Saw("bob", t0)
	ty.Saw("me", t0)
	ty.Saw("ann", t0.Add(2*time.Second))
	if got := ty.Active(t0.Add(time.Second), "me"); len(got) != 2 || got[0] != "ann" || got[1] != "bob" {
		t.Fatalf("Active = %v, want [ann bob]", got)
	}
	if got := ty.Active(t0.Add(protocol.TypingTTL), "me"); len(got) != 1 || got[0] != "ann" {
		t.Fatalf("Active after bob's TTL = %v, want [ann]", got)
	}
	if _, ok := ty["bob"]; ok {
		t.Fatal("expired entry was not forgotten")
	}
	ty.Stop("ann")
	if got := ty.Active(t0.Add(3*time.Second), "me"); len(got) != 0 {
		t.Fatalf("Active after Stop = %v", got)
	}
	if len(ty) != 0 {
		t.Fatalf("entries left: %v", ty)
	}
}

func TestPresenceOrder(t *testing.T) {
	got := Presence([]string{"zed", "me", "ann", "zed", "bob"}, "me")
	want := []string{"me", "ann", "bob", "zed"}
	if len(got) != len(want) {
		t.Fatalf("Presence = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Presence = %v, want %v", got, want)
		}
	}
	if got := Presence([]string{"bob"}, "me"); len(got) != 1 || got[0] != "bob" {
		t.Fatalf("Presence without me = %v", got)
	}
}

func TestInitialsAndAvatarColor(t *testing.T) {
	cases := map[string]string{"ann": "An", "ann.lee": "AL", "a_b_c": "AB", "x": "X", "Bo-7": "B7"}
	for user, want := range cases {
		if got := Initials(user); got != want {
			t.Errorf("Initials(%q) = %q, want %q", user, got, want)
		}
	}
	used := make(map[int]bool)
	for i := range 200 {
		user := fmt.Sprintf("user%d", i)
		c := AvatarColor(user)
		if c < 0 || c >= AvatarColors || c != AvatarColor(user) {
			t.Fatalf("AvatarColor(%q) = %d: unstable or out of range", user, c)
		}
		used[c] = true
	}
	if len(used) != AvatarColors {
		t.Fatalf("200 names use %d of %d avatar colors; the hash is too weak", len(used), AvatarColors)
	}
}

func TestErrorTexts(t *testing.T) {
	if got := AuthErrorText(SignIn, protocol.ErrUnauthorized, ""); got != "Wrong username or password." {
		t.Errorf("sign-in 401: %q", got)
	}
	if got := AuthErrorText(SignUp, protocol.ErrConflict, "taken"); got != "That username is taken. Pick another one, or sign in." {
		t.Errorf("sign-up 409: %q", got)
	}
	if got := AuthErrorText(SignUp, protocol.ErrBadRequest, "password must be at least 8 characters"); got != "Password must be at least 8 characters." {
		t.Errorf("sign-up 400: %q", got)
	}
	if got := AuthErrorText(SignIn, "", "dial failed"); got == "" || got == "dial failed" {
		t.Errorf("network failure: %q", got)
	}
	if got := RoomErrorText(protocol.ErrNotFound, ""); got != "This room does not exist." {
		t.Errorf("room 404: %q", got)
	}
}
