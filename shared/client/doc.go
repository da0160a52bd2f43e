// Package client is Parley's Go client: the one piece of client logic that
// the browser app (js/wasm), the integration tests and the terminal client
// all run. The load generator (server/loadgen) uses its [API] and asks for
// its [Features], but reads frames with a leaner connection of its own, so
// that its cost does not drown the nodes' it measures.
//
// It has two halves:
//
//   - [API] calls the HTTP API (sign-up, login, token refresh, rooms) and
//     turns failures into [*APIError]. It is native only: in js/wasm
//     net/http would keep about 2 MB of initializers in app.wasm, so the
//     browser app calls the API with fetch and builds its errors with
//     [NewAPIError].
//   - [Client] keeps one WebSocket to a node alive for as long as [Client.Run]
//     runs: it authenticates with the first frame, sends heartbeats,
//     reconnects with exponential backoff and full jitter, resubscribes every
//     room from the last offset it delivered, resends unacknowledged messages
//     from its outbox with their original client ids, and delivers each room
//     event exactly once and in offset order through [Config.OnEvent].
//
// # Goroutines
//
// Run owns everything it starts. While connected there are exactly two
// goroutines per connection: the goroutine that called Run reads frames and
// calls OnEvent; one writer goroutine owns every write (queued frames, the
// outbox, pings, token refreshes). Both have stopped when Run returns.
//
// # Invariants
//
//   - A room's events reach OnEvent once each, in offset order: a msg whose
//     offset is not above the last delivered one is dropped; a jump is
//     buffered and the gap fetched with history requests, or, when it is
//     larger than [Config.MaxGap] or the node refuses it for good
//     (forbidden, not_found…), reported with [EventGap] and skipped.
//   - What a node cannot do right now is retried, never dropped: a
//     subscribe or a gap fetch answered with unavailable, rate_limited or
//     internal_error is sent again on the same connection after a backoff
//     with full jitter (from MinBackoff up to [Config.RoomRetry], or the
//     node's retry_after), until it works or the room is unsubscribed;
//     [EventRoomRetry] reports each refusal. A connection that ends (any
//     close code from 4000 to 4499, or none) is redialled with Backoff and
//     every room renewed from its last offset; [Client.RetryNow] cuts the
//     wait short (a "Retry now" button, the browser's online event). The node keeps the other
//     half of the rule (server/README.md): it never delivers past a gap it
//     has not filled, so a retried room misses nothing.
//   - A subscription without an offset (since 0) starts live at the head
//     the node reports. Nodes replay no backlog for since 0, so when a
//     room still at offset 0 is renewed after a reconnect, whatever the
//     subscribed frame's head shows beyond it is fetched with history
//     requests (the same gap logic).
//   - The outbox is bounded ([Config.OutboxSize]) and so is each
//     connection's send queue ([Config.SendQueue]). When the send queue is
//     full, droppable frames (typing) are dropped and anything else closes
//     the connection, which reconnects and recovers from state.
//   - Every message is keyed by its client id (cid); resending it never
//     creates a second message on the node.
//
// # Outbox
//
// A message stays in the outbox until a node acknowledges it. A node's
// rate limit (rate_limited) or a dependency it lacks (unavailable) never
// drops a message: it is resent, however often, on the same connection or
// the next. Only a permanent refusal drops one (bad_request, too_large,
// not_found, forbidden…, or internal_error five times), reported with
// [EventError] naming its cid.
//
// The outbox is written in order, with at most 8 messages awaiting their
// answer at a time; each answer lets the next one go. When the node refuses
// one with rate_limited or unavailable, the client stops writing for the
// delay the node asks for (retry_after, else a growing backoff), then
// resends from the refused message on, in order, one at a time: each after
// the previous one's answer and spaced by the interval learned from
// retry_after, so a long outbox drains at the node's rate instead of
// provoking a refusal per message. It goes back to the window of 8 once the
// outbox is empty, and on each new connection (the node's limit is per
// connection).
//
// Ordering guarantee: messages are stored in outbox order. A node handles
// a connection's frames in order, and once it refuses a message for now it
// refuses the connection's later sends too until that message comes again
// (see package protocol), so the up to 7 later messages already on their
// way when a refusal is written are refused as well, however slow the link,
// and all of them are resent from the refused one on.
package client
