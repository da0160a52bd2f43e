package node

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/budget"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/ws"
	"github.com/parleychat/parley/shared/protocol"
)

// Config is everything a node needs. Every field has a flag and a
// PARLEY_* environment variable; flags win over the environment.
type Config struct {
	Addr        string
	DataDir     string
	RedisURL    string
	PostgresURL string
	PGMaxConns  int
	JWTKeys     string
	// ClusterKeys authenticate broker payloads (--cluster-key, required
	// with Redis); the first signs, all verify.
	ClusterKeys    [][]byte
	AllowedOrigins []string
	TrustedProxies []netip.Prefix
	NodeID         string
	LogLevel       string
	LogFormat      string
	DrainTimeout   time.Duration
	DrainDelay     time.Duration
	AccessTTL      time.Duration
	PresenceTTL    time.Duration
	// Sessions: see auth.Config. SessionSweep is how often expired
	// refresh tokens and sessions are deleted.
	RefreshTTL   time.Duration
	SessionTTL   time.Duration
	RefreshGrace time.Duration
	SessionCache time.Duration
	SessionSweep time.Duration
	// HTTP hardening: deadlines for reading and answering one request
	// (not the WebSocket, which has its own), the header size limit, and
	// the timeout of every store call.
	APIReadTimeout  time.Duration
	APIWriteTimeout time.Duration
	MaxHeaderBytes  int
	StoreTimeout    time.Duration
	// Reconcile is how often each active room compares what it delivered
	// with the store's head.
	Reconcile time.Duration
	// StoreWait is how long a starting node waits for PostgreSQL to answer
	// before it gives up.
	StoreWait time.Duration
	// SendRate and SendBurst bound the messages one connection may send
	// (per second, and at once).
	SendRate  float64
	SendBurst int
	// UserSend is every user's send budget across all of their sockets
	// and, with Redis, every node (server/budget).
	UserSend budget.Limits
	// FrameRate and FrameBurst bound every frame one connection sends
	// (beyond them it is closed with 4005).
	FrameRate  float64
	FrameBurst int
	// PprofAddr, when set, serves net/http/pprof on its own listener
	// (keep it on loopback); empty: no profiling endpoint.
	PprofAddr string
	// MetricsAddr, when set, serves /metrics on its own listener (and
	// the main one does not); empty: the main listener answers /metrics
	// to loopback clients only.
	MetricsAddr string
	// Connection caps (ws.Config).
	MaxConnsPerUser  int
	MaxConnsPerAddr  int
	MaxUnauthPerAddr int
	// AppVersion is the web app's version, given to go-app: browsers
	// install a new one as an update. Empty: a content hash of the
	// embedded assets, identical on every node running the same build.
	AppVersion string
	// ReconcileIdle is the longest a room without traffic waits between
	// checks of the store's head (hub.Config.ReconcileIdle).
	ReconcileIdle time.Duration
	// Coalesce is how long a busy room gathers messages to send them on
	// together (hub.Config.Coalesce); 0: each goes at once.
	Coalesce time.Duration
	// CoalesceMax is the widest a busy room's gathering window grows
	// (hub.Config.CoalesceMax); at or below Coalesce: it never widens.
	CoalesceMax time.Duration
	// GapWait is how long a room waits for a missing offset from the
	// broker before it reads the store (hub.Config.GapWait); 0: it
	// reads at once.
	GapWait time.Duration

	// PasswordParams is the argon2id cost of new hashes (--argon2-*;
	// tests lower it so sign-ups are cheap).
	PasswordParams auth.Params

	// Sign-in limits: the per-address bucket (an IPv6 /64) of signup,
	// login, refresh, logout, password change and account deletion, the
	// bucket of each IPv6 /48, the per-account backoff after failed
	// logins, and the password hashes that may run and wait at once
	// (HashWorkers 0: GOMAXPROCS).
	AuthRate     float64
	AuthBurst    int
	AuthRate48   float64
	AuthBurst48  int
	LoginBackoff budget.Policy
	HashWorkers  int
	HashQueue    int
	// RoomRate and RoomBurst bound the rooms one user may create.
	RoomRate  float64
	RoomBurst int
	// RedisCA, RedisCert and RedisKey are PEM files for a rediss://
	// --redis: the CA that signed Redis's certificate (empty: the system
	// roots) and a client certificate (optional).
	RedisCA   string
	RedisCert string
	RedisKey  string
	// SessionRecheck is how often a node asks the store about every
	// session it holds a socket of, and closes those that ended: the
	// bound for a node that missed the broadcast of an ended session.
	SessionRecheck time.Duration
	// GCPercent is the garbage collector's headroom over the live heap,
	// in percent, and at least gcFloor (gcPolicy sets Go's GOGC for the
	// whole process after every collection while the node serves); 0
	// leaves the runtime's (GOGC, 100 by default). Most
	// of an idle node's heap is its connections, so the default of 25
	// holds their memory at 1.25 times what they use rather than twice.
	// A GOGC in the environment wins over the default.
	GCPercent int
}

// envVar documents one flag's environment variable.
type envVar struct{ flag, env string }

var envVars = []envVar{
	{"addr", "PARLEY_ADDR"},
	{"data", "PARLEY_DATA"},
	{"redis", "PARLEY_REDIS_URL"},
	{"postgres", "PARLEY_POSTGRES_URL"},
	{"pg-max-conns", "PARLEY_PG_MAX_CONNS"},
	{"jwt-keys", "PARLEY_JWT_KEYS"},
	{"cluster-key", "PARLEY_CLUSTER_KEY"},
	{"allowed-origins", "PARLEY_ALLOWED_ORIGINS"},
	{"node-id", "PARLEY_NODE_ID"},
	{"log-level", "PARLEY_LOG_LEVEL"},
	{"log-format", "PARLEY_LOG_FORMAT"},
	{"drain-timeout", "PARLEY_DRAIN_TIMEOUT"},
	{"drain-delay", "PARLEY_DRAIN_DELAY"},
	{"access-ttl", "PARLEY_ACCESS_TTL"},
	{"presence-ttl", "PARLEY_PRESENCE_TTL"},
	{"trusted-proxies", "PARLEY_TRUSTED_PROXIES"},
	{"store-wait", "PARLEY_STORE_WAIT"},
	{"reconcile", "PARLEY_RECONCILE"},
	{"send-rate", "PARLEY_SEND_RATE"},
	{"send-burst", "PARLEY_SEND_BURST"},
	{"user-send-rate", "PARLEY_USER_SEND_RATE"},
	{"user-send-burst", "PARLEY_USER_SEND_BURST"},
	{"user-send-bytes", "PARLEY_USER_SEND_BYTES"},
	{"user-send-bytes-burst", "PARLEY_USER_SEND_BYTES_BURST"},
	{"frame-rate", "PARLEY_FRAME_RATE"},
	{"frame-burst", "PARLEY_FRAME_BURST"},
	{"pprof-addr", "PARLEY_PPROF_ADDR"},
	{"metrics-addr", "PARLEY_METRICS_ADDR"},
	{"max-conns-per-user", "PARLEY_MAX_CONNS_PER_USER"},
	{"max-conns-per-addr", "PARLEY_MAX_CONNS_PER_ADDR"},
	{"max-unauth-per-addr", "PARLEY_MAX_UNAUTH_PER_ADDR"},
	{"refresh-ttl", "PARLEY_REFRESH_TTL"},
	{"session-ttl", "PARLEY_SESSION_TTL"},
	{"refresh-grace", "PARLEY_REFRESH_GRACE"},
	{"session-cache", "PARLEY_SESSION_CACHE"},
	{"session-sweep", "PARLEY_SESSION_SWEEP"},
	{"api-read-timeout", "PARLEY_API_READ_TIMEOUT"},
	{"api-write-timeout", "PARLEY_API_WRITE_TIMEOUT"},
	{"max-header-bytes", "PARLEY_MAX_HEADER_BYTES"},
	{"store-timeout", "PARLEY_STORE_TIMEOUT"},
	{"app-version", "PARLEY_APP_VERSION"},
	{"auth-rate", "PARLEY_AUTH_RATE"},
	{"auth-burst", "PARLEY_AUTH_BURST"},
	{"auth-rate-48", "PARLEY_AUTH_RATE_48"},
	{"auth-burst-48", "PARLEY_AUTH_BURST_48"},
	{"login-free-failures", "PARLEY_LOGIN_FREE_FAILURES"},
	{"login-backoff", "PARLEY_LOGIN_BACKOFF"},
	{"login-backoff-max", "PARLEY_LOGIN_BACKOFF_MAX"},
	{"hash-workers", "PARLEY_HASH_WORKERS"},
	{"hash-queue", "PARLEY_HASH_QUEUE"},
	{"argon2-memory", "PARLEY_ARGON2_MEMORY"},
	{"argon2-time", "PARLEY_ARGON2_TIME"},
	{"argon2-threads", "PARLEY_ARGON2_THREADS"},
	{"room-rate", "PARLEY_ROOM_RATE"},
	{"room-burst", "PARLEY_ROOM_BURST"},
	{"reconcile-idle", "PARLEY_RECONCILE_IDLE"},
	{"coalesce", "PARLEY_COALESCE"},
	{"coalesce-max", "PARLEY_COALESCE_MAX"},
	{"gap-wait", "PARLEY_GAP_WAIT"},
	{"redis-ca", "PARLEY_REDIS_CA"},
	{"redis-cert", "PARLEY_REDIS_CERT"},
	{"redis-key", "PARLEY_REDIS_KEY"},
	{"session-recheck", "PARLEY_SESSION_RECHECK"},
	{"gc-percent", "PARLEY_GC_PERCENT"},
}

// ParseFlags reads a Config from command-line arguments, falling back to the
// environment (getenv) and then to defaults. Usage goes to out.
func ParseFlags(name string, args []string, getenv func(string) string, out io.Writer) (Config, error) {
	var c Config
	var origins, proxies, clusterKeys string
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Addr, "addr", ":8080", "listen address (host:port)")
	fs.StringVar(&c.DataDir, "data", "./data", "data directory: SQLite database and generated JWT key")
	fs.StringVar(&c.RedisURL, "redis", "", "Redis URL for cluster sync (redis://host:6379/0); empty: single node, in-process broker")
	fs.StringVar(&c.PostgresURL, "postgres", "", "PostgreSQL URL for history and accounts; empty: embedded SQLite in --data")
	fs.IntVar(&c.PGMaxConns, "pg-max-conns", 20, "PostgreSQL connection pool size")
	fs.StringVar(&c.JWTKeys, "jwt-keys", "", "JWT HS256 keys as kid:base64secret[,kid:base64secret…], first one signs; empty: generate one in --data (single node only)")
	fs.StringVar(&clusterKeys, "cluster-key", "", "with --redis: base64 key(s) of at least 32 bytes, comma-separated, identical on every node; the first signs broker payloads (HMAC-SHA256), all verify (rotation)")
	fs.StringVar(&origins, "allowed-origins", "", "extra allowed WebSocket Origin host patterns, comma-separated (same origin is always allowed)")
	fs.StringVar(&c.NodeID, "node-id", "", "node name in logs and welcome frames (default: host name + random suffix)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", 15*time.Second, "on SIGTERM, how long clients get to move to other nodes before the rest are cut")
	fs.DurationVar(&c.DrainDelay, "drain-delay", time.Second, "on SIGTERM, how long /readyz reports unready before clients are asked to leave")
	fs.DurationVar(&c.AccessTTL, "access-ttl", 15*time.Minute, "access token lifetime")
	fs.DurationVar(&c.PresenceTTL, "presence-ttl", 15*time.Second, "with --redis: presence entry lifetime; a crashed node's users vanish within 4/3 of it")
	fs.DurationVar(&c.StoreWait, "store-wait", 5*time.Minute, "with --postgres: how long a starting node waits for the database to answer (meanwhile /healthz answers and /readyz says 503); 0: give up at once")
	fs.DurationVar(&c.Reconcile, "reconcile", 5*time.Second, "how often a room with traffic checks the store for messages the broker lost (the longest a lost publish stays unseen there; quiet rooms back off to --reconcile-idle)")
	fs.Float64Var(&c.SendRate, "send-rate", 20, "messages per second one connection may send; more are answered rate_limited with retry_after")
	fs.IntVar(&c.SendBurst, "send-burst", 40, "messages one connection may send at once before --send-rate applies")
	fs.Float64Var(&c.FrameRate, "frame-rate", 100, "frames of any kind per second one connection may send; beyond --frame-burst at once it is closed with 4005")
	fs.IntVar(&c.FrameBurst, "frame-burst", 200, "frames one connection may send at once before --frame-rate applies")
	fs.Float64Var(&c.UserSend.Rate, "user-send-rate", budget.Defaults.Rate, "messages per second one account may send over all its sockets (and, with --redis, all nodes); more are answered rate_limited with retry_after")
	fs.IntVar(&c.UserSend.Burst, "user-send-burst", budget.Defaults.Burst, "messages one account may send at once before --user-send-rate applies")
	fs.Float64Var(&c.UserSend.ByteRate, "user-send-bytes", budget.Defaults.ByteRate, "message body bytes per second one account may send over all its sockets (and, with --redis, all nodes)")
	fs.IntVar(&c.UserSend.ByteBurst, "user-send-bytes-burst", budget.Defaults.ByteBurst, "message body bytes one account may send at once before --user-send-bytes applies (at least the largest body, 12288)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060), on its own listener; empty: off")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve /metrics on this address (e.g. 10.0.0.5:9100 for a Prometheus on the private network), on its own listener, and not on --addr; empty: --addr answers /metrics to loopback clients only")
	fs.IntVar(&c.MaxConnsPerUser, "max-conns-per-user", ws.DefaultMaxConnsPerUser, "open WebSockets one account may hold on this node; more are closed after auth with 4006")
	fs.IntVar(&c.MaxConnsPerAddr, "max-conns-per-addr", ws.DefaultMaxConnsPerAddr, "open WebSockets from one client address (IPv6: one /64) on this node; more get HTTP 429")
	fs.IntVar(&c.MaxUnauthPerAddr, "max-unauth-per-addr", ws.DefaultMaxUnauthPerAddr, "WebSockets from one client address (IPv6: one /64) that have not sent auth yet; more get HTTP 429")
	fs.DurationVar(&c.RefreshTTL, "refresh-ttl", auth.DefaultRefreshTTL, "how long an unused refresh token stays valid (each refresh starts it again)")
	fs.DurationVar(&c.SessionTTL, "session-ttl", auth.DefaultSessionTTL, "absolute session lifetime: after it, sign in again however often the session refreshed")
	fs.DurationVar(&c.RefreshGrace, "refresh-grace", auth.DefaultReuseGrace, "how long a rotated refresh token still works (two tabs racing); presented later, it ends its whole session")
	fs.DurationVar(&c.SessionCache, "session-cache", auth.DefaultCheckCache, "how long a node trusts what it read about a session without a broadcast (the longest an ended session's token still works on a node that missed the broadcast)")
	fs.DurationVar(&c.SessionSweep, "session-sweep", time.Hour, "how often expired refresh tokens and sessions are deleted")
	fs.DurationVar(&c.APIReadTimeout, "api-read-timeout", 30*time.Second, "how long a client may take to send one HTTP request, body included (a slower one is cut off); not the WebSocket")
	fs.DurationVar(&c.APIWriteTimeout, "api-write-timeout", time.Minute, "how long the node may take to answer one HTTP request (app.wasm included); not the WebSocket")
	fs.IntVar(&c.MaxHeaderBytes, "max-header-bytes", 64<<10, "largest HTTP request header accepted (larger: 431)")
	fs.DurationVar(&c.StoreTimeout, "store-timeout", 5*time.Second, "timeout of every store call; a call that takes longer is answered unavailable (the client retries)")
	fs.StringVar(&c.AppVersion, "app-version", "", "web app version; browsers offer \"Reload to update\" when it changes; the same on every node (default: a content hash of the build's web assets)")
	fs.Float64Var(&c.AuthRate, "auth-rate", 1, "sign-in requests (signup, login, refresh, logout, password change, account deletion) per second from one client address (IPv6: one /64)")
	fs.IntVar(&c.AuthBurst, "auth-burst", 10, "sign-in requests one client address may make at once before --auth-rate applies")
	fs.Float64Var(&c.AuthRate48, "auth-rate-48", 4, "sign-in requests per second from one IPv6 /48 together (on top of the per-/64 limit)")
	fs.IntVar(&c.AuthBurst48, "auth-burst-48", 40, "sign-in requests one IPv6 /48 may make at once before --auth-rate-48 applies")
	fs.IntVar(&c.LoginBackoff.Free, "login-free-failures", budget.DefaultPolicy.Free, "wrong passwords in a row one account may get before each next one makes it wait (from any address; shared through --redis)")
	fs.DurationVar(&c.LoginBackoff.Base, "login-backoff", budget.DefaultPolicy.Base, "the first wait after --login-free-failures; it doubles with every further wrong password")
	fs.DurationVar(&c.LoginBackoff.Max, "login-backoff-max", budget.DefaultPolicy.Max, "the longest wait between password checks of one account")
	fs.IntVar(&c.HashWorkers, "hash-workers", 0, "password hashes that may run at once, each taking --argon2-memory (0: one per CPU)")
	fs.IntVar(&c.HashQueue, "hash-queue", auth.DefaultHashQueue, "password hashes that may wait for a worker; beyond them sign-ins are answered 503 with Retry-After at once")
	fs.Float64Var(&c.RoomRate, "room-rate", 1, "rooms per second one user may create")
	fs.IntVar(&c.RoomBurst, "room-burst", 10, "rooms one user may create at once before --room-rate applies")
	argonMemory := fs.Uint("argon2-memory", uint(auth.DefaultParams.Memory), "argon2id memory per password hash, in KiB (OWASP's lower-memory setting: 19456 with --argon2-time 2 --argon2-threads 1)")
	argonTime := fs.Uint("argon2-time", uint(auth.DefaultParams.Time), "argon2id passes over the memory")
	argonThreads := fs.Uint("argon2-threads", uint(auth.DefaultParams.Threads), "argon2id lanes (parallelism)")
	fs.DurationVar(&c.Coalesce, "coalesce", hub.DefaultCoalesce, "how long a busy room gathers messages to send them on together, one write per client for all (a message that finds the room quiet goes at once; none waits longer); 0: each message goes at once")
	fs.DurationVar(&c.CoalesceMax, "coalesce-max", hub.DefaultCoalesceMax, "the widest a busy room's gathering window grows: a room that gathered 2 or more messages per --coalesce waits twice as long for the next ones, up to this; at or below --coalesce: it never widens")
	fs.DurationVar(&c.GapWait, "gap-wait", hub.DefaultGapWait, "how long a room waits for a missing offset from the broker, once a later one came, before it reads the gap from the store (the longest a lost publish stays unseen once a later message arrives); 0: it reads at once")
	fs.DurationVar(&c.ReconcileIdle, "reconcile-idle", 0, "the longest a room without traffic waits between its checks for messages the broker lost (it backs off from --reconcile; traffic brings it back); 0: 8 × --reconcile")
	fs.StringVar(&c.RedisCA, "redis-ca", "", "with a rediss:// --redis: PEM file of the CA that signed Redis's certificate, the only one trusted (empty: the system roots); the server name in the URL is always verified")
	fs.StringVar(&c.RedisCert, "redis-cert", "", "with a rediss:// --redis: PEM client certificate for Redis servers that ask for one (with --redis-key)")
	fs.StringVar(&c.RedisKey, "redis-key", "", "with a rediss:// --redis: PEM private key of --redis-cert")
	fs.DurationVar(&c.SessionRecheck, "session-recheck", time.Minute, "how often a node checks in the store every session it holds a socket of and closes those that ended (the longest a socket outlives its session on a node that missed the broadcast)")
	fs.IntVar(&c.GCPercent, "gc-percent", DefaultGCPercent, "garbage collector headroom over the live heap, in percent, at least 8 MiB (the node sets Go's GOGC); 0: the Go runtime's own (GOGC, else 100); GOGC in the environment wins over the default")
	fs.StringVar(&proxies, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client (for rate limits and logs)")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: %s [flags]\n\nServes Parley: the web app, the HTTP API and the WebSocket endpoint.\n\nFlags (each also read from its environment variable):\n", name)
		fs.PrintDefaults()
		fmt.Fprintln(out, "\nEnvironment variables:")
		for _, e := range envVars {
			fmt.Fprintf(out, "  %-24s --%s\n", e.env, e.flag)
		}
	}
	if err := applyEnv(fs, getenv); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if getenv("GOGC") != "" && !isSet(fs, "gc-percent") {
		c.GCPercent = 0 // the operator tuned the runtime itself
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	for _, p := range strings.Split(proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return c, fmt.Errorf("--trusted-proxies: %w", err)
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}
	if clusterKeys != "" {
		keys, err := broker.ParseClusterKeys(clusterKeys)
		if err != nil {
			return c, fmt.Errorf("--cluster-key: %w", err)
		}
		c.ClusterKeys = keys
	}
	if *argonMemory > 1<<20 || *argonTime > 1<<10 || *argonThreads > 255 {
		return c, errors.New("--argon2-memory must be at most 1048576 KiB, --argon2-time at most 1024, --argon2-threads at most 255")
	}
	c.PasswordParams = auth.DefaultParams
	c.PasswordParams.Memory, c.PasswordParams.Time, c.PasswordParams.Threads = uint32(*argonMemory), uint32(*argonTime), uint8(*argonThreads)
	if c.NodeID == "" {
		host, _ := os.Hostname()
		c.NodeID = host + "-" + strconv.FormatInt(time.Now().UnixNano()%100000, 36)
	}
	return c, c.validate()
}

// DefaultGCPercent is --gc-percent's default.
const DefaultGCPercent = 25

// isSet reports whether the flag named name was set, by the command line
// or its environment variable (applyEnv sets it).
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// applyEnv sets flag defaults from the environment.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	for _, e := range envVars {
		v := getenv(e.env)
		if v == "" {
			continue
		}
		if err := fs.Set(e.flag, v); err != nil {
			return fmt.Errorf("environment %s: %w", e.env, err)
		}
	}
	return nil
}

func (c Config) validate() error {
	if c.Addr == "" {
		return errors.New("--addr must not be empty")
	}
	if c.GCPercent < 0 {
		return fmt.Errorf("--gc-percent must be 0 or more, not %d", c.GCPercent)
	}
	if c.PostgresURL == "" && c.DataDir == "" {
		return errors.New("--data must not be empty without --postgres")
	}
	if c.RedisURL != "" && c.JWTKeys == "" {
		return errors.New("--redis (a cluster) needs --jwt-keys shared by every node")
	}
	if c.RedisURL != "" && len(c.ClusterKeys) == 0 {
		return errors.New("--redis (a cluster) needs --cluster-key shared by every node (head -c 32 /dev/urandom | base64)")
	}
	if (c.RedisCA != "" || c.RedisCert != "" || c.RedisKey != "") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		return errors.New("--redis-ca, --redis-cert and --redis-key need a rediss:// --redis URL (TLS)")
	}
	if c.SessionRecheck < 100*time.Millisecond {
		return errors.New("--session-recheck must be at least 100ms")
	}
	if (c.RedisCert == "") != (c.RedisKey == "") {
		return errors.New("--redis-cert and --redis-key go together")
	}
	if c.PresenceTTL < 3*time.Second {
		return errors.New("--presence-ttl must be at least 3s")
	}
	if c.Reconcile < 100*time.Millisecond {
		return errors.New("--reconcile must be at least 100ms")
	}
	if c.Coalesce < 0 || c.Coalesce > time.Second {
		return errors.New("--coalesce must be between 0 and 1s")
	}
	if c.CoalesceMax < 0 || c.CoalesceMax > time.Second {
		return errors.New("--coalesce-max must be between 0 and 1s")
	}
	if c.GapWait < 0 || c.GapWait > time.Second {
		return errors.New("--gap-wait must be between 0 and 1s")
	}
	if c.ReconcileIdle != 0 && c.ReconcileIdle < c.Reconcile {
		return errors.New("--reconcile-idle must be 0 (8 × --reconcile) or at least --reconcile")
	}
	if c.StoreWait < 0 {
		return errors.New("--store-wait must not be negative")
	}
	if c.SendRate <= 0 || c.SendBurst < 1 {
		return errors.New("--send-rate must be above 0 and --send-burst at least 1")
	}
	if !(c.FrameRate > 0) || c.FrameBurst < 1 || !(c.RoomRate > 0) || c.RoomBurst < 1 {
		return errors.New("--frame-rate and --room-rate must be above 0, --frame-burst and --room-burst at least 1")
	}
	if err := c.UserSend.Check(protocol.MaxBodyBytes); err != nil {
		return fmt.Errorf("--user-send-*: %w", err)
	}
	if c.MaxConnsPerUser < 1 || c.MaxConnsPerAddr < 1 || c.MaxUnauthPerAddr < 1 {
		return errors.New("--max-conns-per-user, --max-conns-per-addr and --max-unauth-per-addr must be at least 1")
	}
	if c.RefreshTTL <= 0 || c.SessionTTL <= 0 || c.SessionSweep <= 0 {
		return errors.New("--refresh-ttl, --session-ttl and --session-sweep must be positive")
	}
	if c.RefreshGrace <= 0 || c.RefreshGrace > time.Minute {
		return errors.New("--refresh-grace must be above 0 and at most 1m")
	}
	if c.SessionCache <= 0 || c.SessionCache > time.Minute {
		return errors.New("--session-cache must be above 0 and at most 1m")
	}
	if c.APIReadTimeout <= 0 || c.APIWriteTimeout <= 0 || c.StoreTimeout <= 0 {
		return errors.New("--api-read-timeout, --api-write-timeout and --store-timeout must be positive")
	}
	if c.MaxHeaderBytes < 4<<10 {
		return errors.New("--max-header-bytes must be at least 4096")
	}
	if !(c.AuthRate > 0) || c.AuthBurst < 1 || !(c.AuthRate48 > 0) || c.AuthBurst48 < 1 {
		return errors.New("--auth-rate and --auth-rate-48 must be above 0, --auth-burst and --auth-burst-48 at least 1")
	}
	if err := c.LoginBackoff.Check(); err != nil {
		return fmt.Errorf("--login-*: %w", err)
	}
	if c.HashWorkers < 0 || c.HashQueue < 1 {
		return errors.New("--hash-workers must not be negative and --hash-queue must be at least 1")
	}
	if err := c.PasswordParams.Check(); err != nil {
		return fmt.Errorf("--argon2-*: %w", err)
	}
	if c.PGMaxConns < 1 {
		return errors.New("--pg-max-conns must be at least 1")
	}
	if !validVersion(c.AppVersion) {
		return errors.New("--app-version may only hold letters, digits, '.', '_' and '-' (at most 64)")
	}
	return nil
}

// validVersion reports whether v may be an app version: it ends up in
// JavaScript strings, an ETag, a cache name and URL paths.
func validVersion(v string) bool {
	if len(v) > 64 {
		return false
	}
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}
