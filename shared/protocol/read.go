package protocol

import "strings"

// TypeRead (client): {room, offset} the user has read room up to offset
// (a message's offset: everything up to and including it). The node
// keeps one marker per member and room. It only moves forward: a read
// at or below the marker changes nothing; an offset past the room's
// head is clamped to the head. A read for a room the user may not read
// is answered like any request for it (not_found, "no such room",
// ref=room; forbidden when banned from a public room); a read of a
// public room the user never joined joins it, as a subscribe does; a
// read of an inbox is bad_request. A read that moved the marker is
// announced on the user's inbox as a [UserRead] event, on every node,
// so every tab and device of the user follows; no other answer comes.
const TypeRead = "read"

// UserRead is the inbox event of a read marker that moved: the user has
// read Room up to Offset (on this or another device). Markers only move
// forward, but events of two devices may arrive in either order: keep
// the larger offset.
const UserRead = "read"

// UnreadCap bounds the unread and mention counts of the room list
// (Room.Unread, Room.Mentions): a count that reaches it means "UnreadCap
// or more", which keeps counting a long unread history cheap.
const UnreadCap = 999

// Mentioned returns the user names body mentions, lowercased (user names
// are case-insensitive), each once, in order of appearance: "@name"
// where the @ does not follow a name character (so an e-mail address
// mentions nobody) and the name ends at a character that cannot be part
// of a name, or at a single '.' that ends a sentence ("thanks @alice.").
// Only valid user names (ValidUsername) are returned.
func Mentioned(body string) []string {
	var out []string
	for i := 0; i < len(body); i++ {
		if body[i] != '@' || (i > 0 && nameByte(body[i-1])) {
			continue
		}
		end := i + 1
		for end < len(body) && nameByte(body[end]) {
			end++
		}
		run := body[i+1 : end]
		i = end - 1
		for _, name := range []string{run, strings.TrimSuffix(run, ".")} {
			if key := strings.ToLower(name); ValidUsername(name) && !contains(out, key) {
				out = append(out, key)
			}
		}
	}
	return out
}

// nameByte reports whether c may be part of a user name (ValidUsername).
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
