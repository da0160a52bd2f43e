package protocol

// Client frames that add or remove the sender's reaction to a message.
// Each is answered like a send: an ack {cid, room, offset, ts}, or an
// error with ref=cid. They are idempotent on (author, cid) like sends.
const (
	// TypeReact (client): {room, cid, target, body} adds the sender's
	// reaction body (one of Reactions) to the message at offset target.
	TypeReact = "react"
	// TypeUnreact (client): {room, cid, target, body} removes it.
	TypeUnreact = "unreact"
)

// Message kinds of reaction events (Message.Kind): Author added (MsgReact)
// or removed (MsgUnreact) the reaction Body on the message at Target.
const (
	MsgReact   = "react"
	MsgUnreact = "unreact"
)

// FeatureReactions ("reactions"): the client understands reaction events
// (messages of Kind MsgReact and MsgUnreact). A client without it is never
// sent one: not live, not in a subscribe backlog, not in a history reply.
// Messages carry their Reactions whatever the client asked for (unknown
// fields are ignored).
const FeatureReactions = "reactions"

// Reactions is the fixed set of reactions, in the order clients show
// them. A react or unreact frame whose body is not one of them is
// answered bad_request.
var Reactions = []string{"👍", "❤️", "😂", "🎉", "😮", "😢"}

// MaxReactionUsers is how many users a Reaction lists at most; Count is
// the true number.
const MaxReactionUsers = 100

// Reaction is one emoji's reactions to a message: how many users reacted
// with it and who (in byte order, the first MaxReactionUsers of them).
type Reaction struct {
	Emoji string   `json:"emoji"`
	Count int      `json:"count"`
	Users []string `json:"users,omitempty"`
}

// IsReaction reports whether s is one of Reactions.
func IsReaction(s string) bool {
	return ReactionIndex(s) >= 0
}

// ReactionIndex is the place of s in Reactions, or -1.
func ReactionIndex(s string) int {
	for i, r := range Reactions {
		if r == s {
			return i
		}
	}
	return -1
}

// IsReactionEvent reports whether m is a reaction event.
func (m *Message) IsReactionEvent() bool {
	return m.Kind == MsgReact || m.Kind == MsgUnreact
}

// checkReactFrame checks a react or unreact frame's fields.
func checkReactFrame(f Frame) error {
	if err := CheckRoomName(f.Room); err != nil {
		return err
	}
	if err := checkID("cid", f.CID, MaxCIDLen, true); err != nil {
		return err
	}
	if f.Target <= 0 {
		return badRequest("target must be the positive offset of a message")
	}
	if !IsReaction(f.Body) {
		return badRequest("unknown reaction %q: the body must be one of %v", f.Body, Reactions)
	}
	return nil
}

// checkReactions checks the reactions a node says a message has.
func checkReactions(m Message) error {
	for _, r := range m.Reactions {
		if r.Emoji == "" || r.Count <= 0 || len(r.Users) > r.Count {
			return badRequest("message %d has a malformed reaction %q (count %d, %d users)", m.Offset, r.Emoji, r.Count, len(r.Users))
		}
	}
	return nil
}
