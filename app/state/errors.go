package state

import "github.com/parleychat/parley/shared/protocol"

// AuthAction says which form an API error answers.
type AuthAction int

// Auth actions.
const (
	SignIn AuthAction = iota + 1
	SignUp
)

// AuthErrorText turns an API error code and message into a sentence for the
// sign-in form. code is "" for a network failure.
func AuthErrorText(action AuthAction, code, message string) string {
	switch code {
	case "":
		return "Can't reach Parley. Check your connection and try again."
	case protocol.ErrUnauthorized:
		if action == SignIn {
			return "Wrong username or password."
		}
		return "Signing up was refused."
	case protocol.ErrConflict:
		return "That username is taken. Pick another one, or sign in."
	case protocol.ErrRateLimited:
		return "Too many attempts. Wait a moment, then try again."
	case protocol.ErrBadRequest, protocol.ErrTooLarge:
		return sentenceOr(message, "Check the username and password.")
	case protocol.ErrUnavailable:
		return "Parley is unavailable right now. Try again shortly."
	default:
		return "Something went wrong on our side. Try again."
	}
}

// RoomErrorText turns an API or node error into a sentence for the room
// form and the room view.
func RoomErrorText(code, message string) string {
	switch code {
	case "":
		return "Can't reach Parley. Check your connection."
	case protocol.ErrConflict:
		return "That room already exists."
	case protocol.ErrNotFound:
		return "This room does not exist."
	case protocol.ErrRateLimited:
		return "Slow down a little, then try again."
	case protocol.ErrForbidden:
		return "You are not allowed to do that."
	case protocol.ErrBadRequest, protocol.ErrTooLarge:
		return sentenceOr(message, "That was not accepted.")
	case protocol.ErrUnavailable:
		return "Parley is unavailable right now. Try again shortly."
	default:
		return "Something went wrong. Try again."
	}
}

// sentenceOr makes the node's message a sentence, or returns fallback
// when there is none.
func sentenceOr(message, fallback string) string {
	if message == "" {
		return fallback
	}
	return capitalize(message) + "."
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
