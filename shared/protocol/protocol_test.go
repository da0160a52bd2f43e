package protocol

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	frames := []Frame{
		{Type: TypeAuth, Token: "a.b.c"},
		{Type: TypeSubscribe, Room: "general", Since: 42},
		{Type: TypeSend, Room: "general", CID: "c1", Body: "hello\nworld ✓"},
		{Type: TypeHistory, ID: "h1", Room: "dev-ops", Before: 100, Limit: 50},
		{Type: TypeMsg, Msg: &Message{Room: "general", Offset: 7, Author: "ann", Body: "<b>hi</b>", TS: 1700000000000, CID: "x"}},
		{Type: TypeHistory, ID: "h1", Room: "general", Messages: []Message{{Room: "general", Offset: 1, Author: "bo", Body: "a", TS: 1}}, More: true},
		{Type: TypePresence, Room: "general", Users: []string{"ann", "bo"}},
		{Type: TypeError, Code: ErrRateLimited, Ref: "c1", Message: "slow down", RetryAfter: 500},
	}
	for _, f := range frames {
		b, err := Encode(f)
		if err != nil {
			t.Fatalf("encode %s: %v", f.Type, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		f.V = Version
		if !reflect.DeepEqual(got, f) {
			t.Errorf("round trip %s:\n got %+v\nwant %+v", f.Type, got, f)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	cases := map[string]string{
		"empty":         ``,
		"not object":    `[1,2]`,
		"bad json":      `{"v":1,"type":"send",`,
		"wrong version": `{"v":2,"type":"ping"}`,
		"no version":    `{"type":"ping"}`,
		"no type":       `{"v":1}`,
		"wrong types":   `{"v":1,"type":"subscribe","room":5}`,
		"since string":  `{"v":1,"type":"subscribe","room":"a","since":"1"}`,
	}
	for name, in := range cases {
		_, err := Decode([]byte(in))
		var de *DecodeError
		if !errors.As(err, &de) || de.Code != ErrBadRequest {
			t.Errorf("%s: Decode(%q) error = %v, want bad_request DecodeError", name, in, err)
		}
	}
	big := `{"v":1,"type":"ping","id":"` + strings.Repeat("x", MaxFrameBytes) + `"}`
	if _, err := Decode([]byte(big)); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("oversized frame: error = %v, want ErrFrameTooLarge", err)
	}
}

func TestValidateClient(t *testing.T) {
	long := strings.Repeat("a", MaxBodyRunes+1)
	cases := []struct {
		name string
		f    Frame
		code string // "" = valid
	}{
		{"auth", Frame{Type: TypeAuth, Token: "t"}, ""},
		{"auth no token", Frame{Type: TypeAuth}, ErrUnauthorized},
		{"auth huge token", Frame{Type: TypeAuth, Token: strings.Repeat("t", MaxTokenLen+1)}, ErrTooLarge},
		{"subscribe", Frame{Type: TypeSubscribe, Room: "general"}, ""},
		{"subscribe bad room", Frame{Type: TypeSubscribe, Room: "General!"}, ErrBadRequest},
		{"subscribe negative since", Frame{Type: TypeSubscribe, Room: "a", Since: -1}, ErrBadRequest},
		{"subscribe long room", Frame{Type: TypeSubscribe, Room: strings.Repeat("a", MaxRoomNameLen+1)}, ErrTooLarge},
		{"send", Frame{Type: TypeSend, Room: "a", CID: "c", Body: "hi"}, ""},
		{"send no cid", Frame{Type: TypeSend, Room: "a", Body: "hi"}, ErrBadRequest},
		{"send cid with space", Frame{Type: TypeSend, Room: "a", CID: "c d", Body: "hi"}, ErrBadRequest},
		{"send long cid", Frame{Type: TypeSend, Room: "a", CID: strings.Repeat("c", MaxCIDLen+1), Body: "hi"}, ErrTooLarge},
		{"send empty body", Frame{Type: TypeSend, Room: "a", CID: "c", Body: " \n\t"}, ErrBadRequest},
		{"send long body", Frame{Type: TypeSend, Room: "a", CID: "c", Body: long}, ErrTooLarge},
		{"send control char", Frame{Type: TypeSend, Room: "a", CID: "c", Body: "a\x00b"}, ErrBadRequest},
		{"send bidi override", Frame{Type: TypeSend, Room: "a", CID: "c", Body: "a\u202Eb"}, ErrBadRequest},
		{"send bidi embedding", Frame{Type: TypeSend, Room: "a", CID: "c", Body: "a\u202Ab"}, ErrBadRequest},
		{"send bidi isolate", Frame{Type: TypeSend, Room: "a", CID: "c", Body: "a\u2068b\u2069"}, ErrBadRequest},
		{"send marks and joiners", Frame{Type: TypeSend, Room: "a", CID: "c", Body: "\u200Fa\u200Eb \U0001F469\u200D\U0001F4BB \u200C"}, ""},
		{"send bad utf8", Frame{Type: TypeSend, Room: "a", CID: "c", Body: "a\xffb"}, ErrBadRequest},
		{"history", Frame{Type: TypeHistory, Room: "a", ID: "1", Limit: HistoryPageMax}, ""},
		{"history big limit", Frame{Type: TypeHistory, Room: "a", ID: "1", Limit: HistoryPageMax + 1}, ErrBadRequest},
		{"history no id", Frame{Type: TypeHistory, Room: "a"}, ErrBadRequest},
		{"ping", Frame{Type: TypePing}, ""},
		{"typing", Frame{Type: TypeTyping, Room: "a"}, ""},
		{"server type from client", Frame{Type: TypeMsg}, ErrUnknownType},
		{"unknown", Frame{Type: "launch"}, ErrUnknownType},
	}
	for _, c := range cases {
		err := ValidateClient(c.f)
		if c.code == "" {
			if err != nil {
				t.Errorf("%s: unexpected error %v", c.name, err)
			}
			continue
		}
		var de *DecodeError
		if !errors.As(err, &de) || de.Code != c.code {
			t.Errorf("%s: error = %v, want code %s", c.name, err, c.code)
		}
	}
}

func TestValidateServer(t *testing.T) {
	good := []Frame{
		{Type: TypeWelcome, User: "ann"},
		{Type: TypeMsg, Msg: &Message{Room: "a", Offset: 1, Author: "ann"}},
		{Type: TypeAck, CID: "c", Room: "a", Offset: 3},
		{Type: TypePong},
		{Type: TypeError, Code: ErrInternal},
		{Type: TypeRemoved, Room: "a", Code: RemovedKicked},
	}
	for _, f := range good {
		if err := ValidateServer(f); err != nil {
			t.Errorf("%s: %v", f.Type, err)
		}
	}
	bad := []Frame{
		{Type: TypeWelcome},
		{Type: TypeMsg},
		{Type: TypeMsg, Msg: &Message{Room: "a", Offset: 0, Author: "ann"}},
		{Type: TypeAck, CID: "c", Room: "a"},
		{Type: TypeHistory, Room: "a", Messages: []Message{{Room: "b", Offset: 1, Author: "x"}}},
		{Type: TypeError},
		{Type: TypeSend},
		{Type: TypeRemoved, Room: "a"},
		{Type: TypeRemoved, Room: "Not a room", Code: RemovedKicked},
	}
	for _, f := range bad {
		if err := ValidateServer(f); err == nil {
			t.Errorf("%s %+v: want error", f.Type, f)
		}
	}
}

func TestNames(t *testing.T) {
	rooms := map[string]bool{"general": true, "a": true, "dev-ops_2": true, "-x": false, "_x": false, "Dev": false, "a b": false, "": false, strings.Repeat("a", MaxRoomNameLen): true, strings.Repeat("a", MaxRoomNameLen+1): false}
	for name, want := range rooms {
		if got := ValidRoomName(name); got != want {
			t.Errorf("ValidRoomName(%q) = %v, want %v", name, got, want)
		}
	}
	users := map[string]bool{"ann": true, "Ann.B-2_x": true, "ab": false, ".ann": false, "an n": false, "añn": false, strings.Repeat("a", MaxUsernameLen+1): false}
	for name, want := range users {
		if got := ValidUsername(name); got != want {
			t.Errorf("ValidUsername(%q) = %v, want %v", name, got, want)
		}
	}
	if CheckPassword("short") == nil || CheckPassword(strings.Repeat("p", MaxPasswordLen+1)) == nil || CheckPassword("long enough") != nil {
		t.Error("CheckPassword bounds wrong")
	}
}

func TestCloseCodeReconnect(t *testing.T) {
	for _, c := range []CloseCode{CloseGoingAway, CloseSlowConsumer, CloseIdle, CloseTokenExpired, CloseAuthTimeout, CloseFlood} {
		if !c.Reconnect() {
			t.Errorf("%d should reconnect", c)
		}
	}
	for _, c := range []CloseCode{CloseUnauthorized, CloseProtocolError} {
		if c.Reconnect() {
			t.Errorf("%d should not reconnect", c)
		}
	}
}

func BenchmarkDecodeMsg(b *testing.B) {
	data := []byte(`{"v":1,"type":"msg","msg":{"room":"general","offset":12345,"author":"alice","body":"hello there, how is everyone doing today?","ts":1700000000000,"cid":"k3j4h5k3j4h5"}}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeMsg(b *testing.B) {
	f := Frame{Type: TypeMsg, Msg: &Message{Room: "general", Offset: 12345, Author: "alice", Body: "hello there, how is everyone doing today?", TS: 1700000000000, CID: "k3j4h5k3j4h5"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(f); err != nil {
			b.Fatal(err)
		}
	}
}
