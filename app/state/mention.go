package state

import "strings"

// Mentions reports whether body mentions user as @user (any case): the name
// must end there, so @al does not mention alice and @alice2 does not
// mention alice, while a sentence may end after it ("thanks @alice.").
func Mentions(body, user string) bool {
	if user == "" {
		return false
	}
	for i := 0; i+1+len(user) <= len(body); i++ {
		if body[i] != '@' || (i > 0 && nameByte(body[i-1])) {
			continue
		}
		end := i + 1 + len(user)
		if !strings.EqualFold(body[i+1:end], user) {
			continue
		}
		if end == len(body) || !nameByte(body[end]) ||
			(body[end] == '.' && (end+1 == len(body) || !nameByte(body[end+1]))) {
			return true
		}
	}
	return false
}

// nameByte reports whether c may be part of a user name (see
// protocol.ValidUsername).
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}
