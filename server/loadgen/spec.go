// Package loadgen is Parley's load generator, run as `parley bench`. It
// drives real nodes over loopback, spreading its connections over several
// worker processes (each may hold at most its open-file limit) and many
// 127.x.y.z source addresses, and reports what the nodes delivered and
// what it cost them.
//
// Its connections are lean speakers of the protocol, not shared/client:
// on one machine the load generator competes with the nodes for the CPU,
// and a client that decodes every frame in full would cost more than the
// nodes and set the latency it measures. A connection asks for the
// features shared/client asks for (so a node treats it as it treats the
// app, batches included), subscribes, pings, and reconnects from the last
// offset it saw. It scans each plain msg frame for its room, offset and
// body (scanMsg, exact on the one form a node writes, zero allocations)
// and decodes everything else in full (protocol.Decode). It counts every
// delivery of the run's messages once per offset, duplicates, events that
// came after a later offset of their room (out of order), and the latency
// from the send time each body carries. A sender writes send frames with
// its own cids and resends the unanswered ones after a reconnect, as the
// outbox does (the node keys them by author and cid).
//
// Shapes:
//
//   - fanout: one room, every client a member, the first S clients send
//     R messages per second each, with 100-byte bodies that carry the send
//     time; latency is from that time to each member's delivery.
//   - cross: fanout with the senders on the first node and the members on
//     the others, so every delivery crosses the broker.
//   - idle: N authenticated connections subscribed to one of --rooms rooms
//     each, doing nothing but heartbeats; the nodes' RSS before and after
//     gives the cost of a connection.
//
// Centrifugo (--target centrifugo) is the peer issue 10 compares with:
// the same shapes, bodies and counting against Centrifugo nodes, speaking
// its JSON client protocol (centrifugo.go): an HS256 token signed with
// --centrifugo-secret, channels bench:RUN-N of a namespace that allows
// client publish and keeps history, so every publication carries its
// offset in the channel's stream and is counted by it as a Parley message
// is by its room offset. A member answers the node's pings, resubscribes
// with recovery from the last offset after a reconnect, and drops (does
// not resend) its unanswered publishes, which Centrifugo cannot
// deduplicate. Its replies are decoded in full (encoding/json).
//
// Everything is bounded in time. The parent process (Run) creates the
// room, starts the workers (`parley bench worker`, the same binary) and
// talks to them over stdin/stdout, one line at a time:
//
//	parent → worker: WorkerSpec as JSON
//	worker → parent: "ready" (every client subscribed)
//	parent → worker: "go"
//	worker → parent: "sent N" (its senders' acknowledged messages)
//	parent → worker: "expect N" (every worker's N, summed)
//	worker → parent: "done" (each member has N, or the drain bound passed)
//	parent → worker: "stop"
//	worker → parent: its WorkerResult as JSON, then it exits
//
// Node CPU seconds and RSS come from /proc/PID/stat of the node processes
// named with --pids; the harness's own CPU is reported beside them, since
// on one machine the two compete.
package loadgen

import "time"

// Shapes.
const (
	ShapeFanout = "fanout"
	ShapeCross  = "cross"
	ShapeIdle   = "idle"
)

// bodyBytes is the size of every message body.
const bodyBytes = 100

// WorkerSpec is one worker process's share of a run.
type WorkerSpec struct {
	Run      string        `json:"run"` // run id, in every body
	Clients  []ClientSpec  `json:"clients"`
	Rate     float64       `json:"rate"` // messages per second per sender
	Duration time.Duration `json:"duration"`
	Drain    time.Duration `json:"drain"`
	Connect  time.Duration `json:"connect"` // bound on connecting and subscribing
	Dials    int           `json:"dials"`   // connections being set up at once
	// CPUProfile, when set, is the file the worker writes its CPU
	// profile of the measured phase to (from "go" until "done").
	CPUProfile string `json:"cpuprofile,omitempty"`
}

// ClientSpec is one connection.
type ClientSpec struct {
	Index  int    `json:"i"`
	Token  string `json:"token"`
	URL    string `json:"url"` // ws:// endpoint
	Source string `json:"src"` // local IP address to dial from
	Room   string `json:"room"`
	Sender bool   `json:"sender,omitempty"`
	// Target is the protocol the node speaks: TargetParley (empty) or
	// TargetCentrifugo, whose Room is a channel.
	Target string `json:"target,omitempty"`
}

// WorkerResult is what one worker measured.
type WorkerResult struct {
	Sent        int64   `json:"sent"`      // messages its senders queued
	Acked       int64   `json:"acked"`     // of those, acknowledged
	Delivered   int64   `json:"delivered"` // deliveries of this run's messages
	Duplicates  int64   `json:"duplicates"`
	OutOfOrder  int64   `json:"out_of_order"` // events that came after a later offset of their room
	FullDecodes int64   `json:"full_decodes"` // frames decoded in full, not scanned (scanMsg)
	Messages    int64   `json:"messages"`     // WebSocket messages its members read
	Frames      int64   `json:"frames"`       // the frames those held (more: batches)
	Short       int64   `json:"short"`        // deliveries its members still missed at the end
	Refused     int64   `json:"refused"`
	Reconnects  int64   `json:"reconnects"`
	Errors      int64   `json:"errors"`
	FirstNanos  int64   `json:"first_ns"` // first and last delivery, Unix nanoseconds
	LastNanos   int64   `json:"last_ns"`
	Latency     Hist    `json:"latency"`
	CPUSeconds  float64 `json:"cpu_s"`
	Failure     string  `json:"failure,omitempty"`
	Connections int     `json:"connections"`
}
