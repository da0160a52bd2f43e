package protocol

import "encoding/json"

// RoomFeed is the name of the room feed: one stream every signed-in user
// may follow, which only nodes write, announcing what the room list
// shows to everyone: public rooms created, and a public room's new
// topic. Subscribe to it like any room (subscribing creates it): its
// events are numbered, arrive live from every node and are recovered
// after a reconnect by subscribing with since = the last offset seen,
// with no gap and no duplicate. Each message is a FeedEvent (JSON in
// the body, Kind empty). Following it is not being in a room: it has
// no members, no presence, no typing and no read marker (presence,
// typing and read for it are bad_request), a send to it is forbidden,
// and it never appears in the room list. It names a private or direct
// room never: those reach their members through the inbox.
//
// The name is under the inbox's reserved prefix ("inbox-" and 32 hex
// digits is a user's inbox; "inbox-rooms" is not one), so no client
// can create it.
const RoomFeed = inboxPrefix + "rooms"

// KindFeed is the room feed's kind (see RoomFeed).
const KindFeed = "feed"

// FeedEvent types.
const (
	// FeedCreated: By created the public room Room (Kind public; Topic
	// empty). Add it to the room list.
	FeedCreated = "created"
	// FeedTopic: By set the topic of the public room Room to Topic
	// (empty: cleared).
	FeedTopic = "topic"
)

// FeedEvent is the body of a message in the room feed. Clients skip a
// type they do not know (a newer node's).
type FeedEvent struct {
	Type  string `json:"type"`
	Room  string `json:"room"`
	Kind  string `json:"kind,omitempty"`
	By    string `json:"by,omitempty"`
	Topic string `json:"topic,omitempty"`
}

// ParseFeedEvent decodes and checks a room feed message's body.
func ParseFeedEvent(body string) (FeedEvent, error) {
	var e FeedEvent
	if len(body) > MaxBodyBytes {
		return e, &DecodeError{Code: ErrTooLarge, Msg: "feed event too large"}
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return FeedEvent{}, badRequest("feed event is not a JSON object: %v", err)
	}
	if e.Type == "" {
		return FeedEvent{}, badRequest("feed event has no type")
	}
	if err := CheckRoomName(e.Room); err != nil {
		return FeedEvent{}, err
	}
	if e.By != "" && !ValidUsername(e.By) {
		return FeedEvent{}, badRequest("feed event names an invalid user")
	}
	if e.Kind != "" && e.Kind != KindPublic {
		return FeedEvent{}, badRequest("feed event names a %q room: the feed holds public rooms only", e.Kind)
	}
	return e, nil
}
