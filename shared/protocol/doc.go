// Package protocol defines Parley's wire protocol: the JSON frames a client
// and a node exchange over a WebSocket, the limits both sides enforce, and the
// error and close codes a client acts on. It is the single definition both
// sides compile against; it uses only the standard library and builds for
// js/wasm as well as native targets.
//
// # Transport
//
// A client opens a WebSocket to /ws on any node. The handshake's Origin must
// be one the node allows (same origin by default). The access token never
// travels in the URL: the first frame the client sends must be an auth frame,
// within [AuthTimeout], or the node closes with [CloseAuthTimeout].
//
// A node caps connections: from one client address (an IPv6 /64 counts as
// one) it admits only so many open sockets, and fewer that have not sent
// auth yet; beyond either, the handshake is answered with HTTP 429 and
// Retry-After (a browser sees only a failed connection; retry with
// backoff). One account may hold only so many sockets on a node: one more
// is closed after auth with [CloseTooManyConnections] (4006). Sends are
// limited per connection and per account: an account's messages and body
// bytes per second are counted over all of its sockets on every node, and
// a send beyond either limit is answered with an error frame rate_limited
// whose retry_after (milliseconds) says when it would fit. The caps are
// node settings (README.md lists them and their defaults).
//
// A frame is a JSON object with a protocol version "v" (currently
// [Version]) and a "type". Every WebSocket message a client sends carries
// exactly one frame; a node sends one frame per message too unless the
// client negotiated [FeatureBatch] (see Features). Unknown fields are
// ignored; unknown types and invalid fields (a bad room name, a missing cid)
// are answered with an error frame and the connection stays open. A message
// that is not a frame of this version at all (not a JSON object, invalid
// JSON or a field of the wrong JSON type, a "v" other than [Version], no
// "type") closes the connection with [CloseProtocolError] (4501), before and
// after auth alike: a client that speaks another protocol could not read an
// error frame either, and 4501 is terminal, so it does not reconnect into
// the same failure. A message larger than [MaxFrameBytes] closes that
// connection with WebSocket status 1009 (message too big); nothing else is
// affected.
//
// # Features
//
// Optional features are negotiated: the auth frame lists those the client
// understands ("features"), and the welcome frame lists those the node
// will use with this connection; a node ignores names it does not know,
// and a client that asks for nothing gets the behaviour described here
// without features.
//
//   - [FeatureBatch] ("batch"): a WebSocket message from the node may carry
//     several frames separated by "\n" (encoded JSON never holds a raw
//     newline), in the order they were sent; [NextFrame] splits one. A
//     node keeps a batch under [MaxBatchBytes] unless a single frame is
//     larger. Without it, every message from the node carries one frame.
//   - [FeaturePresenceDelta] ("presence_delta"): a subscription starts with
//     the full presence list as before, and from then on the node sends
//     presence_delta frames naming only who joined and who left (and the
//     new count) instead of the whole list after every change. A client
//     applies them to the list it holds: add joined, remove left (both
//     are idempotent). A presence frame still replaces the whole list
//     (after a large change, or when asked for). Without the feature,
//     every change sends the full list.
//   - [FeatureEdits] ("edits"): the client understands edit and delete
//     events (see Edits and deletions). Without it a client is never sent
//     one, and their offsets are gaps to it (below).
//   - [FeatureRoomEvents] ("room_events"): the client understands room
//     events (see Room events). Without it a client is never sent one,
//     and their offsets are gaps to it, as for edits.
//   - [FeatureReactions] ("reactions"): the client understands reaction
//     events (see Reactions). Without it a client is never sent one, and
//     their offsets are gaps to it, as for edits.
//   - [FeatureWatch] ("watch"): the node accepts watch and unwatch (see
//     Watching rooms). Without it they are answered bad_request.
//
// # Client → node
//
//	auth        {token, features}              first frame; answered by welcome
//	subscribe   {room, since}                  live messages of room; replay after offset since (0: none)
//	unsubscribe {room}
//	send        {room, cid, body}              answered by ack (or error with ref=cid)
//	edit        {room, cid, target, body}      replace the body of your message at offset target; answered like send
//	delete      {room, cid, target}            delete the message at offset target; answered like send
//	react       {room, cid, target, body}      add your reaction body (one of Reactions) to the message at offset target; answered like send
//	unreact     {room, cid, target, body}      remove it; answered like send
//	history     {id, room, before, limit}      a page of messages older than before
//	typing      {room}                         ephemeral, never stored
//	ping        {id}                           answered by pong; the heartbeat
//	presence    {room}                         asks for the full presence list of a subscribed room
//	token       {token}                        a fresh access token for a live connection
//	read        {room, offset}                 the user has read room up to offset (see Read markers)
//	watch       {room}                         with watch: new messages of room without subscribing; answered by watching
//	unwatch     {room}                         ends a watch
//
// # Node → client
//
//	welcome     {user, node, heartbeat, features}  auth accepted; features: those confirmed
//	subscribed  {room, epoch, head, since}     subscription live; backlog after since follows as msg frames
//	msg         {msg}                          one room event, in offset order per room
//	ack         {cid, room, offset, ts}        send stored; offset is the message's place in the room
//	history     {id, room, messages, more}     reply to a history request, oldest first
//	presence    {room, users, count}           who is in the room now: the full list (at most MaxPresenceUsers, first in byte order) and how many
//	presence_delta {room, joined, left, count} with presence_delta: who joined and left since the last presence frame or delta
//	typing      {room, user}                   someone is typing
//	pong        {id}
//	resync      {room, epoch, head}            re-read from your last offset (older nodes sent it on a new epoch; nodes of this version send removed instead)
//	reauth      {}                             the access token is about to expire: send a token frame
//	removed     {room, code}                   no longer a member of room, or it was deleted: the subscription ended (see Conversations)
//	watching    {room, head}                   a watch is live: messages after head follow as msg frames
//	error       {code, message, ref}           a request failed; ref is the request's cid or id
//
// # Offsets and recovery
//
// Every room numbers its events 1, 2, 3… with no gaps. A client remembers the
// last offset it saw per room and subscribes with since=that offset after a
// reconnect; the node sends every stored message after it (the newest
// MaxBacklog at most: a client further behind pages back with history), then
// live ones, with no gap and no duplicate. since=0 means "nothing seen": the
// node replays nothing and the client reads the latest page with a history
// request; the subscribed frame's head tells it where live messages start.
// A client drops any msg whose offset is not greater than the last it saw,
// and fetches a gap (offset > last+1) with history. A room's epoch changes
// only if its history is reset: when the room was deleted and another
// created under its name (see Conversations); a client that sees a new
// epoch discards its cached history.
//
// A history reply holds up to HistoryPageMax messages and about
// HistoryPageMaxBytes (the newest of the page that fit, at least one; more
// is true when older ones were held back, and before=its first offset
// continues); it may be larger than MaxFrameBytes, which bounds only what a
// node reads. A subscribe backlog is bounded the same way (MaxBacklog,
// MaxBacklogBytes): a client further behind gets the newest messages, sees
// the gap before them and pages back with history.
//
// A subscribe for a room the connection is already in does not leave the
// room: it answers subscribed and replays only what this connection has not
// been sent yet, unless since is below the since it subscribed from before
// (it moved back), in which case it replays after the new since.
//
// Sending is idempotent: a message is keyed by (author, cid), so resending the
// same cid (after a reconnect, or from an offline outbox) acknowledges the
// original message instead of storing a second one. A cid names one message:
// sending a cid already used in another room is refused with conflict (the
// node never acknowledges one room's message for a send to another).
//
// A body is stored in Unicode Normalization Form C (the node normalises it;
// what it stores and sends back may differ in bytes from what was sent).
// Bodies may not hold bidirectional embedding, override or isolate controls
// (U+202A–U+202E, U+2066–U+2069: bad_request), which could make a message
// display in another order than it reads; clients isolate each message's
// direction instead (HTML dir=auto). Direction marks (U+200E, U+200F) and
// zero-width joiners (U+200C, U+200D), which scripts and emoji need, are
// allowed.
//
// A node stores a connection's sends in the order it reads them. Sends a
// client wrote without waiting for their acks may be stored together (one
// transaction); they are answered as if handled one by one, in order. When it
// refuses one for now (rate_limited with retry_after, or unavailable), it
// refuses every other send of that connection the same way until that cid
// is sent again, or until 5 s past its retry_after: a client that resends
// from the refused message on, in order, keeps its order even when later
// messages were already on their way. A client retries unavailable and
// rate_limited answers (subscribe and history too); every other error code
// is final for that request.
//
// # Edits and deletions
//
// An author edits and deletes their own messages; a room's owners and
// moderators delete anyone's (not in a direct room or an inbox). An edit
// or delete frame is a send in every other way: the same rate limits and
// account budget, the same order and refusal rules, idempotent on (author,
// cid), answered by an ack whose offset is the event's. A refusal is an
// error with ref=cid: forbidden (not the author; for a delete, nor an
// owner or moderator), not_found (no message at target, or target is
// itself an event), conflict (the message was deleted; or the cid already
// names another message or event).
//
// Each stored edit or deletion is a room event with its own offset,
// delivered like a message (msg frames, backlog, history, recovery after
// a reconnect): a [Message] with Kind [MsgEdit] (Author's new Body) or
// [MsgDelete] (no Body) and Target, the offset of the message it changes.
// Apply it to the message at Target when you hold it, or when it arrives
// later (a history page): an edit replaces the body and sets Edited to
// the edit's offset, unless the message already shows a later edit
// (Edited ≥ its offset) or was deleted; a deletion empties the body and
// sets Deleted. A node always sends a message in its latest state (Body,
// Edited, Deleted), so a client that pages back reads every message as it
// is now, and a deleted message's text is gone from the node (and its
// edits' text with it); an edit's own Body is the message's latest text,
// empty once it was deleted. Do not show an event as a message.
//
// A client without [FeatureEdits] is sent no event, live, in a backlog
// or in history: it sees messages (in their latest state: a deleted one
// has an empty body and "deleted": true) and a gap at each event's offset.
// A client that fetches such a gap with history gets nothing for it and
// skips it (shared/client of that time reports EventGap and goes on), so
// nothing is lost or shown twice; history replies are shorter than limit
// where events were left out.
//
// # Reactions
//
// A member who may send to a room reacts to its messages with one of the
// fixed set [Reactions] (body): react adds the sender's reaction, unreact
// removes it. A user has at most one reaction of each emoji on a message.
// The frames are sends in every other way (rate limits, account budget,
// order, idempotent on (author, cid)). A reaction that changes something
// is stored as a room event with its own offset, a [Message] of Kind
// [MsgReact] or [MsgUnreact] whose Author reacted, whose Body is the
// emoji and whose Target is the message's offset; the ack names it. One
// that changes nothing (react twice, unreact what is not there) stores
// nothing and is acknowledged with offset = target. A refusal is an error
// with ref=cid: bad_request (body not one of Reactions), not_found (no
// message at target, or target is itself an event), conflict (the message
// was deleted; or the cid names another message or event); a user who may
// not send to the room is refused as for a send.
//
// A message carries its reactions in its latest state, like its body:
// Reactions, one [Reaction] per emoji that has any, in the order of
// [Reactions], with its Count and its Users (byte order, at most
// [MaxReactionUsers]); Reacted is the offset of the latest reaction event
// they include. Apply a reaction event to the message at Target when
// both are held, whenever either arrives: skip it if its offset is not
// above the message's Reacted; otherwise add Author to (react) or remove
// Author from (unreact) the emoji's users and count, doing nothing if
// already so, and set Reacted. Events of one message arrive in offset
// order on one connection; from history pages, apply them in offset
// order. A deleted message has no reactions (its reactions are deleted
// with it, and a deletion clears them). Never show a reaction event as a
// message; it is never unread and mentions nobody.
//
// A client without [FeatureReactions] is sent no reaction event (live, in
// a backlog or in history) and skips their offsets like those of edits;
// it still gets Reactions on messages and may ignore them.
//
// # Room events
//
// With [FeatureRoomEvents], a room's own stream also carries what
// happened to the room: a [Message] of Kind [MsgRoom] whose Author made
// the change and whose Body is a [RoomEvent] ([ParseRoomEvent]): a
// member joined (invited), was removed (kicked, banned, left), got a
// role, or the topic changed. They are numbered, live on every node and
// recovered after a reconnect exactly like messages and edits (backlog,
// history). Apply them to what you show (the member list, roles, the
// topic) or read those again; never show one as a message. They are
// never unread and mention nobody. A public room joined by subscribing
// has no joined event. Skip a What you do not know.
//
// # Watching rooms
//
// A subscription makes the user present, so a client that wants the
// unread counts of rooms it does not have open live watches them
// instead ([FeatureWatch]): watch {room} is answered watching {room,
// head}, or an error with ref=room as a subscribe would be (not_found
// for a private or direct room the user may not read). From then on,
// each new message of the room (no edits, deletions or room events;
// no backlog, typing or presence) arrives as a msg frame, except while
// the same connection is subscribed to the room: the subscription
// delivers it then, once. The user does not appear in the room's
// presence. A watch lives as long as the connection; after a reconnect,
// read the room list (GET /api/rooms) for the counts and watch again.
// It ends silently when the user loses the membership (the inbox says
// so). A connection watches at most [MaxWatches] rooms. Each watch costs
// the room one frame per message, like a subscription, and nothing for
// presence or typing: in a room of N watching members a message is N
// frames, as it is for N subscribers.
//
// # Presence
//
// A subscription starts with a presence frame: the room's users, sorted
// in byte order, and their count. In a room of more than
// [MaxPresenceUsers] the list holds only the first MaxPresenceUsers and
// count the true number. Afterwards, a client without
// [FeaturePresenceDelta] gets a new presence frame after each change
// (changes close together are sent as one); a client with it gets a
// presence_delta frame naming who joined and who left, and count. A
// presence frame always replaces the list a client holds. A client may
// send presence{room} for a room it is subscribed to and gets the full
// list; for any other room the answer is an error (bad_request, ref=room).
// An absent count is 0.
//
// # Conversations
//
// A room is public, private or direct ([KindPublic], [KindPrivate],
// [KindDirect]); rooms from before kinds existed are public. Membership
// is the rule on every node, for every frame: subscribe, send, history,
// typing (which needs a subscription) and presence (sent only to
// subscribers) all require that the user may read the room: a member of
// it, or anyone not banned from a public room. A subscribe to a public
// room joins it (role member), as it always did; a send to a public room
// needs no subscribe. A private or direct room the user is not a member
// of is answered exactly like a room that does not exist — not_found,
// "no such room", the same ref — for every request, so its existence and
// name stay secret; a user banned from a public room gets forbidden.
//
// Rooms are created and managed over HTTP (api.go: private rooms, the
// direct room of a pair or a small group — one per set of at most
// [MaxDirectUsers] people, see [DirectRequest] —, invites, roles, kicks,
// bans, leaving, topics;
// the room list holds only rooms the caller may see, with its role).
// Whoever loses a room's membership — kicked, banned, or leaving on any
// device — gets a removed frame on every connection subscribed to it, on
// every node, at once ([TypeRemoved]; code says why), and the
// subscription is over: nothing more of the room arrives. A node that
// missed the announcement finds out when its broker connection reports
// the interruption, else at its next check of the room (by default 5 s
// in a room with traffic, up to 40 s in a quiet one), and sends removed
// with code [RemovedNotMember]. Sends and history never wait for that:
// they are checked against the store every time. A client that
// does not know the removed frame may ignore it: its next subscribe to
// the room is answered not_found, which is final. Nothing else changed
// for clients of this version, so [Version] stays 1 (edits and deletions,
// reactions, room events and watches are negotiated features too). The other
// members of the room learn of each change live from the room's own
// stream (see Room events).
//
// An owner deletes a public or private room (DELETE /api/rooms/{room};
// moderators and members get forbidden, a stranger to a private room
// not_found as for a missing room; a direct room, an inbox and
// [DefaultRoom] are refused with forbidden: leave a direct room
// instead). Its members, bans, read markers and whole history are gone
// from the node. Every connection subscribed to it, on every node, gets
// removed with code [RemovedDeleted] at once (a node that missed the
// announcement finds out at its next check of the room, as for a
// removal), every watch of it ends silently, and every former member's
// inbox gets a [UserDeleted] event. From then on the room is answered
// not_found to every request. Forget it and everything cached of it. A
// room created later under the same name is another room: it has a new
// epoch and numbers its events from 1 again, so a client that kept the
// old room's offsets sees the new epoch in subscribed and starts over.
// A client that does not know [RemovedDeleted] or [UserDeleted] treats
// them as any removed frame or unknown inbox event: its next request for
// the room is answered not_found.
//
// Each user has an inbox ([KindInbox], named [InboxRoom] of the user):
// a room only that user reads and only nodes write, whose messages are
// [UserEvent]s — invited (also to a new direct room), role changed,
// removed, room deleted, read, and joined ([UserJoined]: the user's own
// subscribe or read made them a new member of a public room, so their
// other tabs and devices list it at once; a repeat join says nothing).
// Subscribe to it like any room (subscribing creates it): new
// events arrive live from every node, and after a reconnect a subscribe
// with since = the last offset seen replays the missed ones, with no gap
// and no duplicate. [ParseUserEvent] decodes a body; skip types you do
// not know. A client that follows its inbox sees rooms appear and
// disappear without reloading the room list.
//
// Public rooms others create arrive through the room feed ([RoomFeed],
// of kind [KindFeed]): one stream for every signed-in user, which only
// nodes write, whose messages are [FeedEvent]s — a public room created,
// a public room's topic set. Subscribe to it like the inbox (subscribing
// creates it; since = the last offset seen recovers what was missed);
// [ParseFeedEvent] decodes a body; skip types you do not know. The feed
// names public rooms only: a private or direct room never appears in it,
// nor anything about one. It is the same for everyone (a user banned
// from a public room still sees that room's events there; the room list
// leaves it out). Following it costs no presence: nobody appears in it,
// and presence, typing and read for it are answered bad_request; a send
// to it is forbidden. Nothing new on the wire: a client that does not
// follow it reads the room list again now and then instead.
//
// # Read markers
//
// The node keeps, per member and room, the offset up to which the member
// has read ([TypeRead]). A client sends read {room, offset} when the
// user has seen the room's messages up to offset; there is no answer on
// success. A marker only moves forward: a read at or below it changes
// nothing, and an offset past the room's head is clamped to the head
// (never refused: a client may have seen a head the node's answer to it
// has not caught up with). A read of a room the user may not read is
// answered as any request for it (not_found "no such room", ref=room,
// for a private or direct room, forbidden when banned); a read of a
// public room the user never joined joins it, like a subscribe; a read
// of the user's own inbox is bad_request; reads count against the
// connection's send rate. A marker that moved is announced as a
// [UserRead] event {type: "read", room, offset} on the user's inbox: it
// reaches every tab and device of the user on every node, and one that
// was offline recovers it by resubscribing to the inbox like any event.
// Keep the largest offset seen per room.
//
// The room list (GET /api/rooms, [Room]) gives, for each room the user
// is a member of, last_read, unread (messages after last_read that
// others wrote) and mentions (those of them naming the user as
// "@name", by the rule of [Mentioned]), both counted up to
// [UnreadCap]. A message mentions whom its body named when it was sent:
// an edit never mentions anyone (an edit that adds @bob raises no
// mention count or notification for bob, who would otherwise be pinged
// again by every edit; one that takes @bob out leaves the mention
// counted until bob reads past it), and a deletion drops the message's
// mentions with it. A new member's marker starts at the room's head: what was
// said before they came is not unread. A client counts the messages of
// rooms it has not open live by watching them (see Watching rooms);
// without [FeatureWatch] it reloads the room list (Parley's app does
// every 15 s then).
//
// # Close codes
//
// WebSocket close status codes in 4000–4499 mean "reconnect (with backoff) and
// recover"; 4500–4999 mean "do not reconnect with the same credentials". See
// the Close* constants.
//
// # Sessions
//
// Access tokens belong to a session (their "sid" claim; see the Sessions
// comment in api.go). When a session ends (logout, sign out everywhere, a
// password change, account deletion, a replayed refresh token), every node
// closes that session's sockets with [CloseSessionEnded] (at once, or, on a
// node that missed the news, at its next periodic check of its sessions,
// every minute by default), and answers an
// auth or token frame carrying one of its tokens the same way. Just before
// that close it sends an error frame with code [ErrSessionEnded]
// ("session_ended", no ref): a browser's WebSocket API does not tell a
// WebAssembly client the close code, so the frame is how it learns. The
// client must not refresh or reconnect: it signs in again. A node that could not
// check a token at all (its store is down) closes with [CloseGoingAway]:
// reconnect later.
package protocol
