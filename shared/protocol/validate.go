package protocol

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidRoomName reports whether name matches RoomNamePattern.
func ValidRoomName(name string) bool {
	if name == "" || len(name) > MaxRoomNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// ValidUsername reports whether name matches UsernamePattern.
func ValidUsername(name string) bool {
	if len(name) < MinUsernameLen || len(name) > MaxUsernameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '_' || c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// CheckRoomName returns a readable error when name is not a valid room name.
func CheckRoomName(name string) error {
	if name == "" {
		return badRequest("room name is empty")
	}
	if len(name) > MaxRoomNameLen {
		return &DecodeError{Code: ErrTooLarge, Msg: fmt.Sprintf("room name longer than %d characters", MaxRoomNameLen)}
	}
	if !ValidRoomName(name) {
		return badRequest("room name %q must be lowercase letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	return nil
}

// CheckUsername returns a readable error when name is not a valid username.
func CheckUsername(name string) error {
	if len(name) > MaxUsernameLen {
		return &DecodeError{Code: ErrTooLarge, Msg: fmt.Sprintf("username longer than %d characters", MaxUsernameLen)}
	}
	if !ValidUsername(name) {
		return badRequest("username must be %d–%d letters, digits, '.', '-' or '_', starting with a letter or digit", MinUsernameLen, MaxUsernameLen)
	}
	return nil
}

// CheckPassword returns a readable error when pw is too short or too long.
func CheckPassword(pw string) error {
	if len(pw) < MinPasswordLen {
		return badRequest("password must be at least %d characters", MinPasswordLen)
	}
	if len(pw) > MaxPasswordLen {
		return &DecodeError{Code: ErrTooLarge, Msg: fmt.Sprintf("password longer than %d bytes", MaxPasswordLen)}
	}
	return nil
}

// CheckBody returns a readable error when body is not a sendable message:
// empty or only white space, invalid UTF-8, too long, or containing control
// characters other than newline and tab.
func CheckBody(body string) error {
	if strings.TrimSpace(body) == "" {
		return badRequest("message is empty")
	}
	if len(body) > MaxBodyBytes || utf8.RuneCountInString(body) > MaxBodyRunes {
		return &DecodeError{Code: ErrTooLarge, Msg: fmt.Sprintf("message longer than %d characters", MaxBodyRunes)}
	}
	if !utf8.ValidString(body) {
		return badRequest("message is not valid UTF-8")
	}
	for _, r := range body {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return badRequest("message contains control character %U", r)
		}
		if IsBidiControl(r) {
			return badRequest("message contains bidirectional formatting character %U", r)
		}
	}
	return nil
}

// IsBidiControl reports whether r is a bidirectional embedding, override or
// isolate control (U+202A–U+202E, U+2066–U+2069). Message bodies may not
// hold them: they can make a message display in an order other than the
// one it is stored in (a "Trojan source" spoof). Apps isolate each message
// (dir=auto) instead; the marks U+200E/U+200F and the joiners U+200C/U+200D
// that scripts and emoji need are allowed.
func IsBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

func checkID(kind, id string, max int, required bool) error {
	if id == "" {
		if required {
			return badRequest("%s is required", kind)
		}
		return nil
	}
	if len(id) > max {
		return &DecodeError{Code: ErrTooLarge, Msg: fmt.Sprintf("%s longer than %d bytes", kind, max)}
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return badRequest("%s must be printable ASCII without spaces", kind)
		}
	}
	return nil
}

// ValidateClient checks a frame a client sent: its type is one a client may
// send and its fields are within limits. The error is a *DecodeError.
func ValidateClient(f Frame) error {
	switch f.Type {
	case TypeAuth, TypeToken:
		if f.Token == "" {
			return &DecodeError{Code: ErrUnauthorized, Msg: "token is required"}
		}
		if len(f.Token) > MaxTokenLen {
			return &DecodeError{Code: ErrTooLarge, Msg: "token too long"}
		}
	case TypeSubscribe:
		if err := CheckRoomName(f.Room); err != nil {
			return err
		}
		if f.Since < 0 {
			return badRequest("since must not be negative")
		}
	case TypeUnsubscribe, TypeTyping, TypePresence, TypeWatch, TypeUnwatch:
		return CheckRoomName(f.Room)
	case TypeSend:
		if err := CheckRoomName(f.Room); err != nil {
			return err
		}
		if err := checkID("cid", f.CID, MaxCIDLen, true); err != nil {
			return err
		}
		return CheckBody(f.Body)
	case TypeEdit, TypeDelete:
		return checkAmend(f)
	case TypeReact, TypeUnreact:
		return checkReactFrame(f)
	case TypeHistory:
		if err := CheckRoomName(f.Room); err != nil {
			return err
		}
		if err := checkID("id", f.ID, MaxIDLen, true); err != nil {
			return err
		}
		if f.Before < 0 {
			return badRequest("before must not be negative")
		}
		if f.Limit < 0 || f.Limit > HistoryPageMax {
			return badRequest("limit must be between 0 and %d", HistoryPageMax)
		}
	case TypePing:
		return checkID("id", f.ID, MaxIDLen, false)
	case TypeRead:
		if err := CheckRoomName(f.Room); err != nil {
			return err
		}
		if f.Offset <= 0 {
			return badRequest("offset must be positive")
		}
	default:
		return &DecodeError{Code: ErrUnknownType, Msg: fmt.Sprintf("unknown frame type %q", f.Type)}
	}
	return nil
}

// ValidateServer checks a frame a node sent, so a client never acts on a
// malformed one.
func ValidateServer(f Frame) error {
	switch f.Type {
	case TypeWelcome:
		if f.User == "" {
			return badRequest("welcome without user")
		}
	case TypeSubscribed, TypeResync, TypeWatching:
		return CheckRoomName(f.Room)
	case TypePresence, TypePresenceDelta:
		if err := CheckRoomName(f.Room); err != nil {
			return err
		}
		if f.Count < 0 {
			return badRequest("count must not be negative")
		}
	case TypeRemoved:
		if err := CheckRoomName(f.Room); err != nil {
			return err
		}
		if f.Code == "" {
			return badRequest("removed without code")
		}
	case TypeTyping:
		if err := CheckRoomName(f.Room); err != nil {
			return err
		}
		if f.User == "" {
			return badRequest("typing without user")
		}
	case TypeMsg:
		if f.Msg == nil {
			return badRequest("msg without message")
		}
		return checkMessage(*f.Msg)
	case TypeAck:
		if f.CID == "" || f.Offset <= 0 {
			return badRequest("ack needs cid and a positive offset")
		}
		return CheckRoomName(f.Room)
	case TypeHistory:
		if err := CheckRoomName(f.Room); err != nil {
			return err
		}
		for _, m := range f.Messages {
			if err := checkMessage(m); err != nil {
				return err
			}
			if m.Room != f.Room {
				return badRequest("history for %q holds a message of %q", f.Room, m.Room)
			}
		}
	case TypePong, TypeReauth:
	case TypeError:
		if f.Code == "" {
			return badRequest("error without code")
		}
	default:
		return &DecodeError{Code: ErrUnknownType, Msg: fmt.Sprintf("unknown frame type %q", f.Type)}
	}
	return nil
}

func checkMessage(m Message) error {
	if err := CheckRoomName(m.Room); err != nil {
		return err
	}
	if m.Offset <= 0 {
		return badRequest("message offset must be positive")
	}
	if m.Author == "" {
		return badRequest("message without author")
	}
	if err := checkReactions(m); err != nil {
		return err
	}
	return checkEvent(m)
}
