package ui

import (
	"slices"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// feedEvent applies one event of the room feed (protocol.RoomFeed): a
// public room someone created joins the list at once, a public room's
// new topic shows at once. The list is not read again for it (every
// signed-in tab hears each event: a reload each would be a stampede on
// the node); what the feed does not say (the room's head) comes with
// the next reload. Unknown types are a newer node's and are skipped.
func (a *App) feedEvent(ev client.Event) {
	switch {
	case ev.Kind == client.EventSubscribed:
		a.mu.Lock()
		a.feedLive = true
		a.mu.Unlock()
		a.notify()
		return
	case ev.Kind != client.EventMessage || ev.Msg == nil:
		return
	}
	fe, err := protocol.ParseFeedEvent(ev.Msg.Body)
	if err != nil {
		return
	}
	switch fe.Type {
	case protocol.FeedCreated:
		a.learnRoom(protocol.Room{Name: fe.Room, Kind: protocol.KindPublic, CreatedBy: fe.By, CreatedAt: ev.Msg.TS, Topic: fe.Topic})
	case protocol.FeedTopic:
		a.setTopic(fe.Room, fe.Topic)
	}
}

// FeedLive reports whether public rooms others create arrive live (the
// room feed subscription is confirmed on the current connection).
func (a *App) FeedLive() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.feedLive
}

// learnRoom adds room to the list unless the list has it already (what
// the list says of a room it holds, the user's role and counts, stays).
func (a *App) learnRoom(room protocol.Room) {
	a.mu.Lock()
	known := slices.ContainsFunc(a.roomList, func(r protocol.Room) bool { return r.Name == room.Name })
	a.mu.Unlock()
	if !known {
		a.addRoom(room)
	}
}
