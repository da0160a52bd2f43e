package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleychat/parley/app"
	"github.com/parleychat/parley/server/api"
	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/ws"
	"github.com/parleychat/parley/shared/protocol"
)

// buildHTTP creates the auth service, the API, the WebSocket server and the
// web app, and routes them.
func (n *Node) buildHTTP() error {
	svc, err := auth.New(auth.Config{
		Store:      n.store,
		Keys:       n.keys,
		AccessTTL:  n.cfg.AccessTTL,
		RefreshTTL: n.cfg.RefreshTTL,
		SessionTTL: n.cfg.SessionTTL,
		ReuseGrace: n.cfg.RefreshGrace,
		CheckCache: n.cfg.SessionCache,
		Ended:      n.sessions.endedHere,
		Params:     n.cfg.PasswordParams,

		MaxConcurrentHashes: n.cfg.HashWorkers,
		HashQueue:           n.cfg.HashQueue,
		Backoff:             n.backoff,
	})
	if err != nil {
		return fmt.Errorf("create auth service: %w", err)
	}
	n.auth = svc
	apiHandler, err := api.New(api.Config{
		Auth: svc, Store: n.store, Logger: n.log, ClientIP: n.clientIP, Removed: n.hub.PublishRemoved, Deleted: n.hub.PublishDeleted, Publish: n.hub.PublishMessage,
		RateLimit: rate.Limit(n.cfg.AuthRate), RateBurst: n.cfg.AuthBurst,
		PrefixRateLimit: rate.Limit(n.cfg.AuthRate48), PrefixRateBurst: n.cfg.AuthBurst48,
		RoomRateLimit: rate.Limit(n.cfg.RoomRate), RoomRateBurst: n.cfg.RoomBurst,
	})
	if err != nil {
		return fmt.Errorf("create api: %w", err)
	}
	n.ws = ws.New(ws.Config{
		Hub:    n.hub,
		Stages: n.stages,
		Store:  n.store,
		Verify: func(ctx context.Context, token string) (ws.Identity, error) {
			c, err := svc.Verify(ctx, token)
			return ws.Identity{User: c.User, Session: c.Session, Expires: c.ExpiresAt}, err
		},
		Expired:          func(err error) bool { return errors.Is(err, auth.ErrTokenExpired) },
		Ended:            func(err error) bool { return errors.Is(err, auth.ErrSessionEnded) },
		Invalid:          func(err error) bool { return errors.Is(err, auth.ErrTokenInvalid) },
		OriginPatterns:   n.cfg.AllowedOrigins,
		NodeID:           n.cfg.NodeID,
		Logger:           n.log,
		SendRate:         rate.Limit(n.cfg.SendRate),
		SendBurst:        n.cfg.SendBurst,
		FrameRate:        rate.Limit(n.cfg.FrameRate),
		FrameBurst:       n.cfg.FrameBurst,
		UserBudget:       n.budget.Take,
		UserBudgetAll:    n.budget.TakeAll,
		UserBudgetReturn: n.budget.Return,

		MaxConnsPerUser:  n.cfg.MaxConnsPerUser,
		MaxConnsPerAddr:  n.cfg.MaxConnsPerAddr,
		MaxUnauthPerAddr: n.cfg.MaxUnauthPerAddr,
		ClientIP:         n.clientIP,
	})
	web, err := app.NewHandler(app.HandlerOptions{Version: n.cfg.AppVersion})
	if err != nil {
		return fmt.Errorf("create web app handler: %w", err)
	}
	info := web.Info()
	if info.WasmBytes == 0 {
		n.log.Warn("app.wasm is not built into this binary: browsers get no app (build with make build)")
	} else {
		n.log.Info("web app", "version", info.Version, "wasm_bytes", info.WasmBytes, "encodings", info.Encodings)
	}

	mux := http.NewServeMux()
	mux.Handle("/api/", apiHandler)
	mux.Handle("GET "+protocol.PathWS, n.ws)
	mux.HandleFunc("GET /healthz", n.healthz)
	mux.HandleFunc("GET /readyz", n.readyz)
	n.metrics.set(n.metricsHandler(web))
	if n.cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", loopbackOnly(&n.metrics))
	} else {
		mux.Handle("/metrics", http.NotFoundHandler()) // on --metrics-addr only
	}
	mux.Handle("/", web)
	n.root.set(mux)
	return nil
}

// switchHandler serves through the handler set last; the node swaps the
// starting handler for the full mux once the store answers.
type switchHandler struct{ h atomic.Pointer[http.Handler] }

func (s *switchHandler) set(h http.Handler) { s.h.Store(&h) }

func (s *switchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

// starting answers while the node waits for its store: alive, not ready.
func (n *Node) starting(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		n.healthz(w, r)
		return
	case "/readyz":
		writeStatus(w, http.StatusServiceUnavailable, map[string]any{"status": "starting", "node": n.cfg.NodeID})
		return
	}
	w.Header().Set("Retry-After", "1")
	writeStatus(w, http.StatusServiceUnavailable, protocol.APIError{Error: protocol.APIErrorBody{Code: protocol.ErrUnavailable, Message: "the node is starting; try again"}})
}

// keyring returns the configured JWT keys, or the embedded default's key
// kept in the data directory.
func (n *Node) keyring() (*auth.Keyring, error) {
	if n.cfg.JWTKeys != "" {
		kr, err := auth.ParseKeys(n.cfg.JWTKeys)
		if err != nil {
			return nil, fmt.Errorf("--jwt-keys: %w", err)
		}
		return kr, nil
	}
	kr, err := auth.LoadOrCreateKeyFile(n.cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("load jwt key: %w", err)
	}
	return kr, nil
}

func (n *Node) healthz(w http.ResponseWriter, _ *http.Request) {
	writeStatus(w, http.StatusOK, map[string]any{"status": "alive", "node": n.cfg.NodeID})
}

// readyz answers 200 while the node accepts clients and its store answers.
func (n *Node) readyz(w http.ResponseWriter, r *http.Request) {
	if !n.ready.Load() {
		writeStatus(w, http.StatusServiceUnavailable, map[string]any{"status": "draining", "node": n.cfg.NodeID})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := n.store.Ping(ctx); err != nil {
		// The store's error names hosts and users: it goes to the log,
		// never to whoever asks.
		n.log.Warn("readyz: the store does not answer", "err", err)
		writeStatus(w, http.StatusServiceUnavailable, map[string]any{"status": "store unreachable", "node": n.cfg.NodeID})
		return
	}
	writeStatus(w, http.StatusOK, map[string]any{"status": "ready", "node": n.cfg.NodeID, "clients": n.ws.Count()})
}

func writeStatus(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
