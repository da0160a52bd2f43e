// Package broker carries room events between the nodes of a cluster. The
// in-process Memory broker serves a single node; the Redis broker syncs many
// nodes over Redis pub/sub. One conformance suite (package brokertest) runs
// against both.
package broker

import "context"

// Handler receives what a broker delivers. Calls for one room arrive in
// publish order from one goroutine per broker; a Handler must not block for
// long (the hub hands payloads to bounded queues).
type Handler interface {
	// Deliver is called once per published payload on a room this node
	// subscribes to, including payloads this node published itself.
	Deliver(room string, payload []byte)
	// Interrupted is called when delivery may have missed payloads (the
	// connection to the backend dropped, or a buffer overflowed) and has
	// now resumed; rooms lists the rooms subscribed during the gap. The
	// hub reacts by making clients backfill those rooms from the store.
	Interrupted(rooms []string)
}

// Broker is at-most-once pub/sub on room channels. Payloads are opaque bytes
// (encoded protocol frames). Publish is one network round trip regardless of
// how many nodes listen. Subscribe and Unsubscribe are reference-free: the
// hub calls Subscribe when a room gets its first local subscriber and
// Unsubscribe when it loses its last.
type Broker interface {
	Publish(ctx context.Context, room string, payload []byte) error
	// PublishAll publishes payloads to room in order, as one Publish
	// each would, in one network round trip however many.
	PublishAll(ctx context.Context, room string, payloads [][]byte) error
	Subscribe(ctx context.Context, room string) error
	Unsubscribe(ctx context.Context, room string) error
	// Run delivers to h until ctx is cancelled or Close is called. It is
	// called once, before Subscribe.
	Run(ctx context.Context, h Handler) error
	Close() error
}
