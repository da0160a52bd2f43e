package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Frame types. The comment says who sends it.
const (
	TypeAuth        = "auth"        // client
	TypeSubscribe   = "subscribe"   // client
	TypeUnsubscribe = "unsubscribe" // client
	TypeSend        = "send"        // client
	TypeHistory     = "history"     // client request and node reply
	TypeTyping      = "typing"      // client and node
	TypePing        = "ping"        // client
	TypeToken       = "token"       // client

	TypeWelcome       = "welcome"        // node
	TypeSubscribed    = "subscribed"     // node
	TypeMsg           = "msg"            // node
	TypeAck           = "ack"            // node
	TypePresence      = "presence"       // node; a client asks for the full list with it
	TypePresenceDelta = "presence_delta" // node, with FeaturePresenceDelta
	TypePong          = "pong"           // node
	TypeResync        = "resync"         // node
	TypeReauth        = "reauth"         // node
	TypeError         = "error"          // node
)

// Frame is one protocol message. It is a flat struct: each type uses the
// fields listed in the package documentation and leaves the rest empty, which
// keeps decoding a single json.Unmarshal and the wire format easy to write by
// hand.
type Frame struct {
	V    int    `json:"v"`
	Type string `json:"type"`

	// Request correlation: ID for history and ping, CID for send.
	ID  string `json:"id,omitempty"`
	CID string `json:"cid,omitempty"`
	// Ref names the cid or id of the request an error answers.
	Ref string `json:"ref,omitempty"`

	Token string `json:"token,omitempty"`
	Room  string `json:"room,omitempty"`
	Body  string `json:"body,omitempty"`

	// Since is the last offset the client has seen (subscribe); Before is
	// the exclusive upper bound of a history page (0 = newest).
	Since  int64 `json:"since,omitempty"`
	Before int64 `json:"before,omitempty"`
	Limit  int   `json:"limit,omitempty"`

	// Offset and TS describe a stored message (ack).
	Offset int64 `json:"offset,omitempty"`
	// Target is the offset of the message an edit, delete, react or
	// unreact changes.
	Target int64 `json:"target,omitempty"`
	TS     int64 `json:"ts,omitempty"`
	// Epoch and Head describe a room: its history generation and the
	// offset of its newest event.
	Epoch int64 `json:"epoch,omitempty"`
	Head  int64 `json:"head,omitempty"`

	Msg      *Message  `json:"msg,omitempty"`
	Messages []Message `json:"messages,omitempty"`
	More     bool      `json:"more,omitempty"`

	User  string   `json:"user,omitempty"`
	Users []string `json:"users,omitempty"`
	// Joined and Left are the users a presence_delta adds and removes;
	// Count is how many users the room has (presence, presence_delta).
	Joined []string `json:"joined,omitempty"`
	Left   []string `json:"left,omitempty"`
	Count  int      `json:"count,omitempty"`
	Node   string   `json:"node,omitempty"`
	// Heartbeat is the ping interval the node expects, in milliseconds.
	Heartbeat int64 `json:"heartbeat,omitempty"`
	// Features lists optional protocol features: those a client asks for
	// (auth) and those the node confirms (welcome). See FeatureBatch.
	Features []string `json:"features,omitempty"`

	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// RetryAfter is a delay in milliseconds, with rate_limited errors.
	RetryAfter int64 `json:"retry_after,omitempty"`
}

// Message is one stored room event.
type Message struct {
	Room   string `json:"room"`
	Offset int64  `json:"offset"`
	Author string `json:"author"`
	Body   string `json:"body"`
	// TS is when the node stored it, in Unix milliseconds.
	TS  int64  `json:"ts"`
	CID string `json:"cid,omitempty"`

	// Kind is empty for a message; MsgEdit or MsgDelete (FeatureEdits),
	// MsgReact or MsgUnreact (FeatureReactions) for an event that
	// changes the message at offset Target; MsgRoom for a room event.
	Kind   string `json:"kind,omitempty"`
	Target int64  `json:"target,omitempty"`
	// Edited is the offset of the latest edit the message's Body comes
	// from (0: never edited); Deleted says it was deleted (Body is
	// empty). A message is always sent in its latest state.
	Edited  int64 `json:"edited,omitempty"`
	Deleted bool  `json:"deleted,omitempty"`
	// Reactions are the message's reactions, in the order of Reactions
	// (none on an event or a deleted message); Reacted is the offset of
	// the latest reaction event they include (0: none).
	Reactions []Reaction `json:"reactions,omitempty"`
	Reacted   int64      `json:"reacted,omitempty"`
}

// ErrFrameTooLarge is returned by Decode for input over MaxFrameBytes.
var ErrFrameTooLarge = errors.New("frame larger than MaxFrameBytes")

// DecodeError describes why bytes are not a valid frame. Code is one of the
// Err* codes.
type DecodeError struct {
	Code string
	Msg  string
}

func (e *DecodeError) Error() string { return e.Code + ": " + e.Msg }

func badRequest(format string, args ...any) error {
	return &DecodeError{Code: ErrBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// Decode parses one frame and checks its version and that it has a type. It
// does not check type-specific fields: call ValidateClient or ValidateServer
// for that.
func Decode(data []byte) (Frame, error) {
	var f Frame
	if len(data) > MaxFrameBytes {
		return f, ErrFrameTooLarge
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return f, badRequest("frame is not a JSON object")
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return Frame{}, badRequest("invalid JSON: %v", err)
	}
	if f.V != Version {
		return Frame{}, badRequest("unsupported protocol version %d (want %d)", f.V, Version)
	}
	if f.Type == "" {
		return Frame{}, badRequest("frame has no type")
	}
	return f, nil
}

// Encode marshals f, filling in the version.
func Encode(f Frame) ([]byte, error) {
	f.V = Version
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encode %s frame: %w", f.Type, err)
	}
	return b, nil
}

// ErrorFrame builds an error frame answering the request ref.
func ErrorFrame(code, ref, message string) Frame {
	return Frame{V: Version, Type: TypeError, Code: code, Ref: ref, Message: message}
}
