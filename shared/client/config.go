package client

import (
	"context"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// Defaults for the zero fields of Config.
const (
	DefaultMinBackoff  = 250 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	DefaultStableAfter = 15 * time.Second
	DefaultSendQueue   = 256
	DefaultOutboxSize  = 500
	DefaultMaxGap      = protocol.MaxBacklog
	DefaultRoomRetry   = 5 * time.Second
)

// Timeouts of one connection.
const (
	dialTimeout    = 15 * time.Second
	welcomeTimeout = 2 * protocol.AuthTimeout
	writeTimeout   = 10 * time.Second
	// readLimit bounds one node frame. History replies carry up to
	// HistoryPageMax bodies, so it is far above protocol.MaxFrameBytes,
	// which bounds what a node reads.
	readLimit = 8 << 20
)

// Config configures a Client. URL and Token are required.
type Config struct {
	// URL is the WebSocket endpoint, ws:// or wss://…/ws (see
	// WebSocketURL).
	URL string
	// Token returns the access token. It is called before every connection
	// attempt and when the node sends a reauth frame; refresh the token
	// there when it is close to expiry. An error that matches
	// ErrUnauthorized (such as an *APIError with status 401) ends Run;
	// other errors count as a failed attempt.
	Token func(ctx context.Context) (string, error)
	// OnEvent receives every Event, from one goroutine (the one running
	// Run) and in order. It must not block for long: while it runs no frame
	// is read. It must not call History, which waits for a frame that only
	// this goroutine can read; hand events to another goroutine for that.
	OnEvent func(Event)

	// MinBackoff and MaxBackoff bound the reconnect delay (defaults 250ms
	// and 30s).
	MinBackoff, MaxBackoff time.Duration
	// StableAfter is how long a connection must live for the backoff to
	// start again from MinBackoff (default 15s).
	StableAfter time.Duration
	// PingInterval is how often a ping frame is sent (default
	// protocol.PingInterval, or less when the node's welcome asks for it).
	// A connection on which nothing arrives for 2.5 intervals is dead.
	PingInterval time.Duration
	// DrainJitter is the window over which to spread the reconnect after
	// a draining node closed with CloseGoingAway (default
	// protocol.DrainJitterSeconds).
	DrainJitter time.Duration

	// SendQueue bounds the frames waiting to be written on one connection
	// (default 256). The browser's WebSocket never pushes back, so this is
	// the client's only bound.
	SendQueue int
	// OutboxSize bounds the messages waiting for their ack (default 500).
	OutboxSize int
	// MaxGap is the largest offset gap fetched with history requests
	// (default protocol.MaxBacklog); larger gaps are skipped and reported
	// with EventGap.
	MaxGap int64
	// RoomRetry is the longest wait between two tries of a room's subscribe
	// or gap fetch that the node refused for now (default 5s; the first
	// retries come sooner, from MinBackoff up, with full jitter).
	RoomRetry time.Duration

	// HTTPClient is used to dial on native platforms (default
	// http.DefaultClient); the browser dials by itself (see HTTPClient).
	HTTPClient *HTTPClient
	// Origin is sent as the Origin header of the handshake on native
	// platforms. Browsers set it themselves.
	Origin string

	// Logger receives debug and warning logs; nil discards them. A
	// *slog.Logger is one.
	Logger Logger
}

// Logger is what the client logs through; *slog.Logger implements it.
// It is an interface, not *slog.Logger, so that the browser build does not
// link log/slog (about 190 KB of app.wasm).
type Logger interface {
	Debug(msg string, args ...any)
	Warn(msg string, args ...any)
}

// discard is the Logger of a Config without one.
type discard struct{}

func (discard) Debug(string, ...any) {}
func (discard) Warn(string, ...any)  {}

func (cfg Config) withDefaults() Config {
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.StableAfter <= 0 {
		cfg.StableAfter = DefaultStableAfter
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = protocol.PingInterval
	}
	if cfg.DrainJitter <= 0 {
		cfg.DrainJitter = protocol.DrainJitterSeconds * time.Second
	}
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = DefaultSendQueue
	}
	if cfg.OutboxSize <= 0 {
		cfg.OutboxSize = DefaultOutboxSize
	}
	if cfg.MaxGap <= 0 {
		cfg.MaxGap = DefaultMaxGap
	}
	if cfg.RoomRetry <= 0 {
		cfg.RoomRetry = DefaultRoomRetry
	}
	if cfg.OnEvent == nil {
		cfg.OnEvent = func(Event) {}
	}
	if cfg.Logger == nil {
		cfg.Logger = discard{}
	}
	return cfg
}
