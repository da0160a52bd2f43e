// Package api serves Parley's HTTP JSON API: accounts and tokens (signup,
// login, refresh, logout), the account's sessions (list, end one, sign out
// everywhere), password change, account deletion, and rooms (list,
// create; private and direct rooms, members, roles, kicks, bans, leaving
// and topics), as listed in shared/protocol/api.go.
//
// Every request body is limited to protocol.MaxAPIBodyBytes and must be a
// JSON object sent as application/json. Every response is JSON (or empty,
// for 204) with Cache-Control: no-store; a failure carries a
// protocol.APIError with a stable code. Signup, login, refresh and logout
// are rate limited per client address (an IPv6 /64) and per IPv6 /48
// (with password change and account deletion, which cost a password hash
// too), room creation per user. An owner deletes a room (DELETE
// /api/rooms/{room}): the store forgets it, Config.Deleted ends its
// subscriptions on every node, and each member's inbox gets a deleted
// event. Beyond that, auth.Service slows down
// password guessing per account (429 with Retry-After) and answers 503
// with Retry-After at once when its queue of password hashes is full.
//
// Mount the Handler at "/api/" (it answers every path below it, with a JSON
// 404 for unknown ones).
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
	"golang.org/x/time/rate"
)

// Defaults for Config.
const (
	DefaultRateLimit  = rate.Limit(1) // requests per second, per key
	DefaultRateBurst  = 10
	DefaultMaxClients = 10000
)

// Config configures a Handler. Auth and Store are required.
type Config struct {
	Auth  *auth.Service
	Store store.Store
	// Logger receives internal errors (default slog.Default()).
	Logger *slog.Logger

	// RateLimit and RateBurst shape the token bucket each client address
	// gets for signup, login, refresh and logout together (and the
	// password checks of password change and account deletion). Zero
	// means DefaultRateLimit / DefaultRateBurst; rate.Inf disables
	// limiting.
	RateLimit rate.Limit
	RateBurst int
	// RoomRateLimit and RoomRateBurst shape each user's bucket for
	// creating rooms; zero means RateLimit and RateBurst.
	RoomRateLimit rate.Limit
	RoomRateBurst int
	// PrefixRateLimit and PrefixRateBurst shape one more bucket for the
	// same routes, shared by every client in one IPv6 /48 (a site, where
	// each /64 counts as one client above); zero means 4 times RateLimit
	// and RateBurst.
	PrefixRateLimit rate.Limit
	PrefixRateBurst int
	// MaxClients bounds how many buckets are kept per limiter (default
	// DefaultMaxClients); idle full buckets are dropped once a minute and,
	// when still full, an arbitrary one makes room.
	MaxClients int
	// ClientIP names the client of a request for rate limiting; default
	// ClientIP (the RemoteAddr host, IPv6 by /64). Behind a trusted
	// reverse proxy, supply one that reads its forwarding header.
	ClientIP func(*http.Request) string
	// Now is the clock for rate limiting; default time.Now.
	Now func() time.Time
	// Removed, if set, is called after a kick, ban or leave is stored,
	// to end user's subscriptions to room on every node
	// (hub.Hub.PublishRemoved); reason is a protocol.Removed* code.
	Removed func(ctx context.Context, room, user, reason string) error
	// Deleted, if set, is called after a room's deletion is stored, to
	// end every subscription and watch of it on every node
	// (hub.Hub.PublishDeleted).
	Deleted func(ctx context.Context, room string) error
	// Publish, if set, announces a stored message to every node
	// (hub.Hub.PublishMessage): the user events the API appends to
	// inboxes (protocol.KindInbox), the room events and the room feed's
	// events (protocol.RoomFeed) arrive live through it.
	Publish func(ctx context.Context, m store.Message) error
}

// Handler is the API's http.Handler. It starts no goroutines and needs no
// closing.
type Handler struct {
	auth      *auth.Service
	store     store.Store
	log       *slog.Logger
	mux       *http.ServeMux
	authLimit *limiterMap // per client address: signup, login, refresh, logout…
	wideLimit *limiterMap // the same routes per IPv6 /48
	roomLimit *limiterMap // per user: room creation
	clientIP  func(*http.Request) string
	removed   func(ctx context.Context, room, user, reason string) error
	deleted   func(ctx context.Context, room string) error
	publish   func(ctx context.Context, m store.Message) error
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler serving the API routes.
func New(cfg Config) (*Handler, error) {
	if cfg.Auth == nil || cfg.Store == nil {
		return nil, errors.New("new api handler: Auth and Store are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = DefaultRateBurst
	}
	if cfg.RoomRateLimit == 0 {
		cfg.RoomRateLimit = cfg.RateLimit
	}
	if cfg.RoomRateBurst <= 0 {
		cfg.RoomRateBurst = cfg.RateBurst
	}
	if cfg.PrefixRateLimit == 0 {
		cfg.PrefixRateLimit = 4 * cfg.RateLimit
	}
	if cfg.PrefixRateBurst <= 0 {
		cfg.PrefixRateBurst = 4 * cfg.RateBurst
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = ClientIP
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{
		auth:      cfg.Auth,
		store:     cfg.Store,
		log:       cfg.Logger,
		mux:       http.NewServeMux(),
		authLimit: newLimiterMap(cfg.RateLimit, cfg.RateBurst, cfg.MaxClients, cfg.Now),
		wideLimit: newLimiterMap(cfg.PrefixRateLimit, cfg.PrefixRateBurst, cfg.MaxClients, cfg.Now),
		roomLimit: newLimiterMap(cfg.RoomRateLimit, cfg.RoomRateBurst, cfg.MaxClients, cfg.Now),
		clientIP:  cfg.ClientIP,
		removed:   cfg.Removed,
		deleted:   cfg.Deleted,
		publish:   cfg.Publish,
	}
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	byUser := func(_ *http.Request, user string) string { return user }

	h.mux.Handle("POST "+protocol.PathSignup, h.limitAuth(h.handle(h.signup)))
	h.mux.Handle("POST "+protocol.PathLogin, h.limitAuth(h.handle(h.login)))
	h.mux.Handle("POST "+protocol.PathRefresh, h.limitAuth(h.handle(h.refresh)))
	h.mux.Handle("POST "+protocol.PathLogout, h.limitAuth(h.handle(h.logout)))
	h.mux.Handle("GET "+protocol.PathSessions, h.handle(h.withClaims(h.listSessions)))
	h.mux.Handle("DELETE "+protocol.PathSessions, h.handle(h.withClaims(h.endAllSessions)))
	h.mux.Handle("DELETE "+protocol.PathSessions+"/{id}", h.handle(h.withClaims(h.endSession)))
	h.mux.Handle("POST "+protocol.PathPassword, h.limitAuth(h.handle(h.withClaims(h.changePassword))))
	h.mux.Handle("DELETE "+protocol.PathAccount, h.limitAuth(h.handle(h.withClaims(h.deleteAccount))))
	h.mux.Handle("GET "+protocol.PathRooms, h.handle(h.authed(h.listRooms)))
	h.mux.Handle("POST "+protocol.PathRooms, h.handle(h.authed(h.limitUser(h.roomLimit, byUser, h.createRoom))))
	h.mux.Handle("PATCH "+protocol.PathRooms+"/{room}", h.handle(h.authed(h.updateRoom)))
	h.mux.Handle("DELETE "+protocol.PathRooms+"/{room}", h.handle(h.authed(h.deleteRoom)))
	h.mux.Handle("POST "+protocol.PathDirect, h.handle(h.authed(h.limitUser(h.roomLimit, byUser, h.directRoom))))
	h.mux.Handle("GET "+protocol.PathRooms+"/{room}/members", h.handle(h.authed(h.listMembers)))
	h.mux.Handle("POST "+protocol.PathRooms+"/{room}/members", h.handle(h.authed(h.limitUser(h.roomLimit, byUser, h.invite))))
	h.mux.Handle("DELETE "+protocol.PathRooms+"/{room}/members/{user}", h.handle(h.authed(h.removeMember)))
	h.mux.Handle("GET "+protocol.PathRooms+"/{room}/bans", h.handle(h.authed(h.listBans)))
	h.mux.Handle("PUT "+protocol.PathRooms+"/{room}/bans/{user}", h.handle(h.authed(h.ban)))
	h.mux.Handle("DELETE "+protocol.PathRooms+"/{room}/bans/{user}", h.handle(h.authed(h.unban)))

	for path, allow := range map[string]string{
		protocol.PathSignup:   "POST",
		protocol.PathLogin:    "POST",
		protocol.PathRefresh:  "POST",
		protocol.PathLogout:   "POST",
		protocol.PathRooms:    "GET, HEAD, POST",
		protocol.PathSessions: "GET, HEAD, DELETE",
		protocol.PathPassword: "POST",
		protocol.PathAccount:  "DELETE",
		protocol.PathDirect:   "POST",
	} {
		h.mux.Handle(path, methodNotAllowed(allow))
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, protocol.ErrNotFound, "no such API endpoint")
	})
}

// ServeHTTP limits the request body, sets the headers every response
// shares and dispatches to the route.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	r.Body = http.MaxBytesReader(w, r.Body, protocol.MaxAPIBodyBytes)
	h.mux.ServeHTTP(w, r)
}

func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		WriteError(w, http.StatusMethodNotAllowed, protocol.ErrBadRequest, r.Method+" is not allowed here; use "+allow)
	})
}
