package protocol

import "testing"

func TestParseRoomEvent(t *testing.T) {
	e, err := ParseRoomEvent(`{"what":"role","user":"bob","by":"alice","role":"moderator","future":1}`)
	if err != nil || e != (RoomEvent{What: RoomRole, User: "bob", By: "alice", Role: RoleModerator}) {
		t.Fatalf("ParseRoomEvent = %+v, %v", e, err)
	}
	for _, bad := range []string{``, `[]`, `{"user":"bob"}`, `{"what":"role","user":"-no"}`, `{"what":"x","by":"a b"}`,
		`{"what":"role","user":"bob","role":"king"}`, `{"what":1}`} {
		if _, err := ParseRoomEvent(bad); err == nil {
			t.Errorf("ParseRoomEvent(%q) accepted", bad)
		}
	}
}

// TestRoomEventMessage: a node's msg frame may carry a room event
// (kind room, no target); one with a target is refused. Watch frames
// need a room name.
func TestRoomEventMessage(t *testing.T) {
	ok := Message{Room: "club", Offset: 3, Author: "alice", Kind: MsgRoom, Body: `{"what":"topic"}`}
	if err := ValidateServer(Frame{Type: TypeMsg, Msg: &ok}); err != nil {
		t.Fatalf("room event refused: %v", err)
	}
	bad := ok
	bad.Target = 1
	if err := ValidateServer(Frame{Type: TypeMsg, Msg: &bad}); err == nil {
		t.Fatal("a room event with a target was accepted")
	}
	if !ok.IsRoomEvent() || !ok.IsEvent() {
		t.Fatal("a room event is an event")
	}
	for _, typ := range []string{TypeWatch, TypeUnwatch} {
		if err := ValidateClient(Frame{Type: typ, Room: "club"}); err != nil {
			t.Errorf("%s refused: %v", typ, err)
		}
		if err := ValidateClient(Frame{Type: typ, Room: "Bad Room"}); err == nil {
			t.Errorf("%s of a bad room name accepted", typ)
		}
	}
	if err := ValidateServer(Frame{Type: TypeWatching, Room: "club", Head: 4}); err != nil {
		t.Errorf("watching refused: %v", err)
	}
}
