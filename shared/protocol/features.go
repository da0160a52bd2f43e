package protocol

import "bytes"

// Features a client may ask for in its auth frame ("features") and a node
// confirms in its welcome frame. A node confirms only those it supports;
// a client uses only those confirmed, so old clients and old nodes keep
// working with new ones.
const (
	// FeatureBatch: one WebSocket message from the node may carry several
	// frames, separated by "\n" (see NextFrame). Without it every message
	// carries exactly one frame.
	FeatureBatch = "batch"
	// FeaturePresenceDelta: after the full presence list a subscription
	// starts with, the node sends presence_delta frames (who joined, who
	// left) instead of the whole list again on every change.
	FeaturePresenceDelta = "presence_delta"
)

// MaxBatchBytes is the size a node keeps a batched message under: frames
// are added to a batch while it stays within this size, and a single
// frame larger than it travels alone.
const MaxBatchBytes = 64 << 10

// HasFeature reports whether list names feature.
func HasFeature(list []string, feature string) bool {
	for _, f := range list {
		if f == feature {
			return true
		}
	}
	return false
}

// NextFrame splits a WebSocket message into its first frame and the rest:
// frames are separated by "\n" (encoded JSON never holds a raw newline).
// Empty and blank lines are skipped; frame is nil when nothing is left.
// A message without a newline is one frame, so a client may split every
// message, batched or not.
func NextFrame(msg []byte) (frame, rest []byte) {
	for len(msg) > 0 {
		i := bytes.IndexByte(msg, '\n')
		if i < 0 {
			frame, msg = msg, nil
		} else {
			frame, msg = msg[:i], msg[i+1:]
		}
		if len(bytes.TrimSpace(frame)) > 0 {
			return frame, msg
		}
	}
	return nil, nil
}

// AppendBatch appends frame to a batch being built in buf, with the
// separator when buf already holds a frame.
func AppendBatch(buf, frame []byte) []byte {
	if len(buf) > 0 {
		buf = append(buf, '\n')
	}
	return append(buf, frame...)
}
