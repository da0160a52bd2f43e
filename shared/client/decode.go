package client

import (
	"encoding/json"
	"fmt"

	"github.com/parleychat/parley/shared/protocol"
)

// decodeNodeFrame parses a frame from a node. protocol.Decode refuses
// anything over MaxFrameBytes, the bound on what a node reads; a node's
// own frames may be larger (a history page holds up to HistoryPageMax
// bodies), so those are parsed here with the same checks and only the
// connection's read limit as a bound.
func decodeNodeFrame(data []byte) (protocol.Frame, error) {
	if len(data) <= protocol.MaxFrameBytes {
		return protocol.Decode(data)
	}
	var f protocol.Frame
	if err := json.Unmarshal(data, &f); err != nil {
		return protocol.Frame{}, fmt.Errorf("decode frame: %w", err)
	}
	if f.V != protocol.Version || f.Type == "" {
		return protocol.Frame{}, fmt.Errorf("decode frame: version %d, type %q", f.V, f.Type)
	}
	return f, nil
}
