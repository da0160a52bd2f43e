package client

import "slices"

// Presence is one room's presence list as a client holds it: each
// EventPresence of the room either replaces it (a full list) or changes
// it (a delta: protocol.FeaturePresenceDelta). The zero value is empty
// and ready to use; it is not safe for concurrent use.
type Presence struct {
	users map[string]struct{}
	count int
}

// Apply applies a presence event: a full list replaces the set, a delta
// adds who joined and removes who left (both idempotent, so a delta that
// repeats what the set holds changes nothing). Other events are ignored.
func (p *Presence) Apply(ev Event) {
	if ev.Kind != EventPresence {
		return
	}
	if !ev.Delta || p.users == nil {
		clear(p.users)
		if p.users == nil {
			p.users = make(map[string]struct{}, len(ev.Users)+len(ev.Joined))
		}
		for _, u := range ev.Users {
			p.users[u] = struct{}{}
		}
	}
	if ev.Delta {
		for _, u := range ev.Joined {
			p.users[u] = struct{}{}
		}
		for _, u := range ev.Left {
			delete(p.users, u)
		}
	}
	p.count = max(ev.Count, len(p.users))
}

// Users returns the users held, sorted (byte order). In a room bigger
// than protocol.MaxPresenceUsers it may hold fewer than Count.
func (p *Presence) Users() []string {
	out := make([]string, 0, len(p.users))
	for u := range p.users {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// Count returns how many users the room has, as the node last said.
func (p *Presence) Count() int { return p.count }

// Reset forgets the list (the room was left or the connection lost).
func (p *Presence) Reset() { *p = Presence{} }
