package protocol

import "testing"

func TestRoomFeedName(t *testing.T) {
	if !ValidRoomName(RoomFeed) || !ReservedRoomName(RoomFeed) {
		t.Fatalf("RoomFeed %q: valid %v, reserved %v; want both", RoomFeed, ValidRoomName(RoomFeed), ReservedRoomName(RoomFeed))
	}
	if RoomFeed == InboxRoom("rooms") {
		t.Fatal("RoomFeed is a user's inbox")
	}
}

func TestParseFeedEvent(t *testing.T) {
	e, err := ParseFeedEvent(`{"type":"created","room":"club","by":"alice","kind":"public","future":1}`)
	if err != nil || e != (FeedEvent{Type: FeedCreated, Room: "club", By: "alice", Kind: KindPublic}) {
		t.Fatalf("ParseFeedEvent = %+v, %v", e, err)
	}
	e, err = ParseFeedEvent(`{"type":"topic","room":"club","by":"alice","topic":"hi"}`)
	if err != nil || e != (FeedEvent{Type: FeedTopic, Room: "club", By: "alice", Topic: "hi"}) {
		t.Fatalf("ParseFeedEvent = %+v, %v", e, err)
	}
	for _, bad := range []string{``, `[]`, `{"room":"club"}`, `{"type":"created"}`, `{"type":"created","room":"Bad Room"}`,
		`{"type":"x","room":"a","by":"-no"}`, `{"type":1}`, `{"type":"created","room":"club","kind":"private"}`,
		`{"type":"created","room":"club","kind":"direct"}`} {
		if _, err := ParseFeedEvent(bad); err == nil {
			t.Errorf("ParseFeedEvent(%q) accepted", bad)
		}
	}
}
