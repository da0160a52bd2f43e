package loadgen

import (
	"bytes"
	"math"
	"strconv"

	"github.com/parleychat/parley/shared/protocol"
)

// leanMsg is what the load generator reads of a msg frame. Its slices
// point into the frame they were scanned from.
type leanMsg struct {
	Room   []byte
	Offset int64
	Author []byte
	Body   []byte
	TS     int64
	CID    []byte
}

// msgHead is how a node's encoding of a msg frame starts (encoding/json
// writes protocol.Frame's and protocol.Message's fields in their order and
// leaves the empty ones out).
var msgHead = []byte(`{"v":` + strconv.Itoa(protocol.Version) + `,"type":"msg","msg":{"room":"`)

// scanMsg reads a msg frame without decoding it, in the one form a node
// writes a plain message (no kind, edit, deletion or reactions):
//
//	{"v":1,"type":"msg","msg":{"room":"…","offset":N,"author":"…","body":"…","ts":N[,"cid":"…"]}}
//
// with strings of printable ASCII that encoding/json writes as they are
// (no escapes, no <, > or &), a cid that is not empty, and numbers that
// fit an int64: exactly the bytes a node writes for such a message. For anything else it reports false and the caller decodes the
// frame in full (protocol.Decode): what it accepts, it reads exactly as
// protocol.Decode would (FuzzScanMsg holds it to that).
func scanMsg(f []byte) (m leanMsg, ok bool) {
	rest, ok := bytes.CutPrefix(f, msgHead)
	if !ok {
		return m, false
	}
	if m.Room, rest, ok = scanString(rest); !ok {
		return m, false
	}
	if m.Offset, rest, ok = scanField(rest, `,"offset":`); !ok {
		return m, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"author":"`)); !ok {
		return m, false
	}
	if m.Author, rest, ok = scanString(rest); !ok {
		return m, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"body":"`)); !ok {
		return m, false
	}
	if m.Body, rest, ok = scanString(rest); !ok {
		return m, false
	}
	if m.TS, rest, ok = scanField(rest, `,"ts":`); !ok {
		return m, false
	}
	if r, has := bytes.CutPrefix(rest, []byte(`,"cid":"`)); has {
		if m.CID, rest, ok = scanString(r); !ok || len(m.CID) == 0 {
			return m, false
		}
	}
	return m, string(rest) == "}}"
}

// scanString reads a string's contents up to its closing quote: printable
// ASCII only, no escapes.
func scanString(b []byte) (s, rest []byte, ok bool) {
	for i, c := range b {
		switch {
		case c == '"':
			return b[:i], b[i+1:], true
		case c < 0x20 || c >= 0x7f || c == '\\' || c == '<' || c == '>' || c == '&':
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// scanField reads key, then a non-negative integer that fits an int64,
// without a leading zero (unless it is 0), followed by a non-digit.
func scanField(b []byte, key string) (n int64, rest []byte, ok bool) {
	b, ok = bytes.CutPrefix(b, []byte(key))
	if !ok {
		return 0, nil, false
	}
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := int64(b[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, nil, false
		}
		n = n*10 + d
	}
	if i == 0 || (b[0] == '0' && i > 1) {
		return 0, nil, false
	}
	return n, b[i:], true
}

// sendTime reads the send time from a body without its run prefix:
// "SENDER SEQ SENDNANOS …" (see body).
func sendTime(rest []byte) (int64, bool) {
	for range 2 {
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			return 0, false
		}
		rest = rest[i+1:]
	}
	ns, r, ok := scanField(rest, "")
	if !ok || len(r) == 0 || r[0] != ' ' {
		return 0, false
	}
	return ns, true
}
