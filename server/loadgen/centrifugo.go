package loadgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Centrifugo is the peer the load generator can measure beside Parley
// (--target centrifugo): Centrifugo's client protocol, JSON over
// WebSocket at /connection/websocket. A command is one JSON object with
// an id; the server answers with a reply of the same id and pushes
// publications as replies without one, several replies to a WebSocket
// message separated by newlines. An empty reply, {}, is the server's ping,
// answered with {}.
const (
	TargetParley     = "parley"
	TargetCentrifugo = "centrifugo"

	// centrifugoPath is where a Centrifugo node takes WebSocket clients.
	centrifugoPath = "/connection/websocket"
	// centrifugoNamespace is the channel namespace the benchmark's
	// configuration opens to client subscribe and publish.
	centrifugoNamespace = "bench"
)

// cfCommand is a client command: exactly one of its requests is set.
type cfCommand struct {
	ID        uint32       `json:"id"`
	Connect   *cfConnect   `json:"connect,omitempty"`
	Subscribe *cfSubscribe `json:"subscribe,omitempty"`
	Publish   *cfPublish   `json:"publish,omitempty"`
}

type cfConnect struct {
	Token string `json:"token"`
	Name  string `json:"name,omitempty"`
}

// cfSubscribe asks for a channel; with Recover it asks for the
// publications after Offset of the stream Epoch.
type cfSubscribe struct {
	Channel string `json:"channel"`
	Recover bool   `json:"recover,omitempty"`
	Offset  uint64 `json:"offset,omitempty"`
	Epoch   string `json:"epoch,omitempty"`
}

type cfPublish struct {
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

// cfReply is a reply or push, as far as the load generator reads it.
type cfReply struct {
	ID        uint32            `json:"id,omitempty"`
	Error     *cfError          `json:"error,omitempty"`
	Push      *cfPush           `json:"push,omitempty"`
	Connect   *cfConnectResult  `json:"connect,omitempty"`
	Subscribe *cfSubscribeReply `json:"subscribe,omitempty"`
	Publish   *struct{}         `json:"publish,omitempty"`
}

type cfError struct {
	Code    uint32 `json:"code"`
	Message string `json:"message"`
}

func (e *cfError) Error() string { return fmt.Sprintf("centrifugo error %d: %s", e.Code, e.Message) }

type cfConnectResult struct {
	Client string `json:"client"`
	Ping   uint32 `json:"ping"` // seconds between the server's pings
	Pong   bool   `json:"pong"` // the server expects pongs
}

type cfSubscribeReply struct {
	Recoverable  bool            `json:"recoverable"`
	Epoch        string          `json:"epoch"`
	Offset       uint64          `json:"offset"`
	Recovered    bool            `json:"recovered"`
	Publications []cfPublication `json:"publications"`
}

type cfPush struct {
	Channel string         `json:"channel"`
	Pub     *cfPublication `json:"pub,omitempty"`
}

type cfPublication struct {
	Data   json.RawMessage `json:"data"`
	Offset uint64          `json:"offset"`
}

// cfPong answers the server's ping.
var cfPong = []byte(`{}`)

// encodeCommand writes a command as Centrifugo's JSON protocol has it.
func encodeCommand(c cfCommand) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode centrifugo command %d: %w", c.ID, err)
	}
	return b, nil
}

// publishCommand publishes body to channel as a JSON string: the same
// bytes a Parley message body carries, quoted (bodies are printable ASCII
// without quotes or backslashes).
func publishCommand(id uint32, channel, body string) ([]byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	return encodeCommand(cfCommand{ID: id, Publish: &cfPublish{Channel: channel, Data: data}})
}

// nextReply splits the first reply off a WebSocket message from a
// Centrifugo node: replies are separated by newlines.
func nextReply(msg []byte) (reply, rest []byte) {
	for len(msg) > 0 {
		i := bytes.IndexByte(msg, '\n')
		if i < 0 {
			return msg, nil
		}
		if i > 0 {
			return msg[:i], msg[i+1:]
		}
		msg = msg[1:]
	}
	return nil, nil
}

// decodeReply decodes one reply in full.
func decodeReply(b []byte) (cfReply, error) {
	var r cfReply
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("decode centrifugo reply: %w", err)
	}
	return r, nil
}

// pushHead is how a node's push of a publication starts.
var pushHead = []byte(`{"push":{"channel":"`)

// scanPush reads a push of a publication without decoding it, in the form
// a Centrifugo v6 node writes one a client published with a string body
// (testdata/centrifugo-frames.jsonl):
//
//	{"push":{"channel":"…","pub":{"data":"…","info":{"user":"…","client":"…"},"offset":N[,"epoch":"…"]}}}
//
// with strings of printable ASCII without escapes (or <, > and &); info is
// optional. For anything else it reports false and the caller decodes the
// reply in full (decodeReply): what it accepts, it reads as decodeReply
// does (FuzzScanPush holds it to that). data is the body, unquoted.
func scanPush(b []byte) (channel, data []byte, offset int64, ok bool) {
	rest, ok := bytes.CutPrefix(b, pushHead)
	if !ok {
		return nil, nil, 0, false
	}
	if channel, rest, ok = scanString(rest); !ok {
		return nil, nil, 0, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"pub":{"data":"`)); !ok {
		return nil, nil, 0, false
	}
	if data, rest, ok = scanString(rest); !ok {
		return nil, nil, 0, false
	}
	if r, has := bytes.CutPrefix(rest, []byte(`,"info":{"user":"`)); has {
		if _, r, ok = scanString(r); !ok {
			return nil, nil, 0, false
		}
		if r, ok = bytes.CutPrefix(r, []byte(`,"client":"`)); !ok {
			return nil, nil, 0, false
		}
		if _, r, ok = scanString(r); !ok || len(r) == 0 || r[0] != '}' {
			return nil, nil, 0, false
		}
		rest = r[1:]
	}
	if offset, rest, ok = scanField(rest, `,"offset":`); !ok {
		return nil, nil, 0, false
	}
	if r, has := bytes.CutPrefix(rest, []byte(`,"epoch":"`)); has {
		if _, rest, ok = scanString(r); !ok {
			return nil, nil, 0, false
		}
	}
	return channel, data, offset, string(rest) == "}}}"
}

// stringData returns the contents of a publication's data when it is a
// JSON string without escapes (as every body of the run is).
func stringData(data []byte) ([]byte, bool) {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return nil, false
	}
	s := data[1 : len(data)-1]
	if bytes.IndexByte(s, '\\') >= 0 || bytes.IndexByte(s, '"') >= 0 {
		return nil, false
	}
	return s, true
}

// centrifugoToken is a connection token for user: HS256 with the nodes'
// HMAC secret, as Centrifugo's client.token.hmac_secret_key takes it.
func centrifugoToken(secret []byte, user string, now time.Time) (string, error) {
	claims := jwt.RegisteredClaims{Subject: user, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(24 * time.Hour))}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign centrifugo token for %s: %w", user, err)
	}
	return tok, nil
}

// centrifugoChannel names the i-th channel of a run.
func centrifugoChannel(run string, i int) string {
	return centrifugoNamespace + ":" + run + "-" + strconv.Itoa(i)
}
