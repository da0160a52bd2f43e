package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parleychat/parley/shared/protocol"
)

// ErrInboxTaken: a room that is not user's inbox holds the inbox's name
// (one created before names were reserved).
var ErrInboxTaken = errors.New("inbox name taken by another room")

// EnsureInbox returns the name of user's inbox (protocol.InboxRoom),
// creating it, owned by user, if it does not exist yet.
func EnsureInbox(ctx context.Context, s Store, user string) (string, error) {
	name := protocol.InboxRoom(user)
	_, err := s.CreateRoomOf(ctx, name, protocol.KindInbox, user)
	if err == nil {
		return name, nil
	}
	if !errors.Is(err, ErrConflict) {
		return "", fmt.Errorf("ensure inbox of %s: %w", user, err)
	}
	a, err := s.Access(ctx, name, user)
	if err != nil {
		return "", fmt.Errorf("ensure inbox of %s: %w", user, err)
	}
	if a.Kind != protocol.KindInbox || a.Role != protocol.RoleOwner {
		return "", fmt.Errorf("ensure inbox of %s: %w", user, ErrInboxTaken)
	}
	return name, nil
}

// AppendUserEvent appends ev to user's inbox, creating the inbox if
// needed, and returns the stored message (publish it like any message).
func AppendUserEvent(ctx context.Context, s Store, user string, ev protocol.UserEvent) (Message, error) {
	inbox, err := EnsureInbox(ctx, s, user)
	if err != nil {
		return Message{}, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return Message{}, fmt.Errorf("encode user event: %w", err)
	}
	m, _, err := s.Append(ctx, Message{Room: inbox, Author: user, Body: string(body)})
	if err != nil {
		return Message{}, fmt.Errorf("append user event for %s: %w", user, err)
	}
	return m, nil
}
