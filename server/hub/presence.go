package hub

import "github.com/parleychat/parley/shared/protocol"

// diffSorted compares two sorted lists without duplicates and returns
// what to is missing from from (joined) and what from has that to lacks
// (left), both sorted.
func diffSorted(from, to []string) (joined, left []string) {
	i, j := 0, 0
	for i < len(from) || j < len(to) {
		switch {
		case j == len(to) || (i < len(from) && from[i] < to[j]):
			left = append(left, from[i])
			i++
		case i == len(from) || to[j] < from[i]:
			joined = append(joined, to[j])
			j++
		default:
			i++
			j++
		}
	}
	return joined, left
}

// presenceFrames encodes a room's presence frames once, when first
// needed, for every subscriber that gets them.
type presenceFrames struct {
	room            string
	users           []string
	joined, left    []string
	fullFrame       []byte
	deltaFrame      []byte
	fullDone, dDone bool
}

// full is the presence frame: at most protocol.MaxPresenceUsers users
// (the first in byte order) and the count of all.
func (p *presenceFrames) full() []byte {
	if !p.fullDone {
		p.fullDone = true
		p.fullFrame = encodePresence(p.room, p.users)
	}
	return p.fullFrame
}

// delta is the presence_delta frame from the previous list to users.
func (p *presenceFrames) delta() []byte {
	if !p.dDone {
		p.dDone = true
		p.deltaFrame, _ = protocol.Encode(protocol.Frame{Type: protocol.TypePresenceDelta, Room: p.room, Joined: p.joined, Left: p.left, Count: len(p.users)})
	}
	return p.deltaFrame
}

// encodePresence encodes the presence frame of users (sorted), capped at
// protocol.MaxPresenceUsers; nil if it cannot be encoded.
func encodePresence(room string, users []string) []byte {
	list := users[:min(len(users), protocol.MaxPresenceUsers)]
	b, _ := protocol.Encode(protocol.Frame{Type: protocol.TypePresence, Room: room, Users: list, Count: len(users)})
	return b
}
