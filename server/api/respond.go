package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// httpError is a failure with its HTTP status and API code decided.
type httpError struct {
	status int
	code   string
	msg    string
	// retryAfter, when set, goes out as Retry-After (whole seconds).
	retryAfter time.Duration
}

func (e *httpError) Error() string { return e.code + ": " + e.msg }

func errorf(status int, code, format string, args ...any) error {
	return &httpError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// apiFunc is a route that reports failure by returning an error.
type apiFunc func(w http.ResponseWriter, r *http.Request) error

// handle turns an apiFunc into a handler that answers its error.
func (h *Handler) handle(fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.fail(w, r, err)
		}
	})
}

// fail answers err as an APIError with the status it maps to. Anything
// not recognised is logged and answered with a generic 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := classify(err)
	if e == nil {
		h.log.ErrorContext(r.Context(), "api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &httpError{status: http.StatusInternalServerError, code: protocol.ErrInternal, msg: "internal error"}
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
	}
	if e.retryAfter > 0 {
		setRetryAfter(w, e.retryAfter)
	}
	WriteError(w, e.status, e.code, e.msg)
}

// sentinels are the errors from auth with a fixed answer; the message is
// the sentinel's own text, never the detail wrapped around it.
var sentinels = []struct {
	err    error
	status int
	code   string
}{
	{auth.ErrInvalidCredentials, http.StatusUnauthorized, protocol.ErrUnauthorized},
	{auth.ErrInvalidRefreshToken, http.StatusUnauthorized, protocol.ErrUnauthorized},
	{auth.ErrTokenExpired, http.StatusUnauthorized, protocol.ErrUnauthorized},
	{auth.ErrTokenInvalid, http.StatusUnauthorized, protocol.ErrUnauthorized},
	{auth.ErrSessionEnded, http.StatusUnauthorized, protocol.ErrUnauthorized},
	{auth.ErrUsernameTaken, http.StatusConflict, protocol.ErrConflict},
}

// classify maps err to its answer, or nil for an internal error.
func classify(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	var de *protocol.DecodeError
	if errors.As(err, &de) {
		return &httpError{status: http.StatusBadRequest, code: de.Code, msg: de.Msg}
	}
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		return &httpError{status: http.StatusTooManyRequests, code: protocol.ErrRateLimited, msg: auth.ErrThrottled.Error(), retryAfter: te.Wait}
	}
	if errors.Is(err, auth.ErrBusy) {
		return &httpError{status: http.StatusServiceUnavailable, code: protocol.ErrUnavailable, msg: auth.ErrBusy.Error(), retryAfter: time.Second}
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return &httpError{status: s.status, code: s.code, msg: s.err.Error()}
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &httpError{status: http.StatusServiceUnavailable, code: protocol.ErrUnavailable, msg: "request cancelled or timed out"}
	}
	if store.Unreachable(err) {
		return &httpError{status: http.StatusServiceUnavailable, code: protocol.ErrUnavailable, msg: "the database is unreachable; retry later", retryAfter: time.Second}
	}
	return nil
}

// WriteError writes an APIError body with status; the WebSocket endpoint
// can use it to answer a refused handshake in the API's format.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, protocol.APIError{Error: protocol.APIErrorBody{Code: code, Message: message}})
}

// writeRateLimited answers 429 with Retry-After in whole seconds.
func writeRateLimited(w http.ResponseWriter, retryAfter time.Duration) {
	setRetryAfter(w, retryAfter)
	WriteError(w, http.StatusTooManyRequests, protocol.ErrRateLimited, "too many requests; retry later")
}

// setRetryAfter sets Retry-After to d in whole seconds, rounded up.
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	secs := int64((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only API types are written; they always marshal.
		panic(fmt.Sprintf("marshal API response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}
