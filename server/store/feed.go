package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parleychat/parley/shared/protocol"
)

// ErrFeedTaken: a room that is not the room feed holds its name (one
// created before the name was reserved).
var ErrFeedTaken = errors.New("room feed name taken by another room")

// EnsureFeed creates the room feed (protocol.RoomFeed: kind feed, no
// members) if it does not exist yet.
func EnsureFeed(ctx context.Context, s Store) error {
	_, err := s.CreateRoomOf(ctx, protocol.RoomFeed, protocol.KindFeed, "")
	if err == nil {
		return nil
	}
	if !errors.Is(err, ErrConflict) {
		return fmt.Errorf("ensure room feed: %w", err)
	}
	rm, err := s.Room(ctx, protocol.RoomFeed)
	if err != nil {
		return fmt.Errorf("ensure room feed: %w", err)
	}
	if rm.Kind != protocol.KindFeed {
		return fmt.Errorf("ensure room feed: %w", ErrFeedTaken)
	}
	return nil
}

// AppendFeedEvent appends ev (about a public room, made by ev.By) to the
// room feed, creating the feed if needed, and returns the stored message
// (publish it like any message). Anything but a public room's event is
// refused: the feed is read by everyone.
func AppendFeedEvent(ctx context.Context, s Store, ev protocol.FeedEvent) (Message, error) {
	if ev.Kind != "" && ev.Kind != protocol.KindPublic {
		return Message{}, fmt.Errorf("append feed event about %s room %q: only public rooms are announced", ev.Kind, ev.Room)
	}
	if err := EnsureFeed(ctx, s); err != nil {
		return Message{}, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return Message{}, fmt.Errorf("encode feed event: %w", err)
	}
	m, _, err := s.Append(ctx, Message{Room: protocol.RoomFeed, Author: ev.By, Body: string(body)})
	if err != nil {
		return Message{}, fmt.Errorf("append feed event about %q: %w", ev.Room, err)
	}
	return m, nil
}
