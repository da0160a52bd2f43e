package client

// This file is built everywhere, the browser included: it must not import
// net/http, whose package initializers alone (with crypto/tls and
// crypto/x509 behind them) would add about 2 MB to app.wasm. API itself,
// which needs net/http's Client, is native only (api.go).

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// APIError is a failed API call: the HTTP status and the stable code and
// message of the protocol.APIError body.
type APIError struct {
	Status  int
	Code    string // one of the protocol.Err* codes
	Message string
	// RetryAfter comes from the Retry-After header of a 429 or 503.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	return fmt.Sprintf("api: %d %s: %s", e.Status, e.Code, e.Message)
}

// Is makes errors.Is(err, ErrUnauthorized) hold for 401 answers.
func (e *APIError) Is(target error) bool {
	return target == ErrUnauthorized && (e.Status == 401 || e.Code == protocol.ErrUnauthorized)
}

// NewAPIError builds the *APIError of a failed API call from its status,
// Retry-After header and body; a body that is not a protocol.APIError
// still yields the status and a code derived from it. Transports other than
// API (the browser app's fetch) use it so errors look the same everywhere.
func NewAPIError(status int, retryAfter string, body []byte) *APIError {
	e := &APIError{Status: status}
	var ae protocol.APIError
	if json.Unmarshal(body, &ae) == nil && ae.Error.Code != "" {
		e.Code, e.Message = ae.Error.Code, ae.Error.Message
	} else {
		e.Code = codeForStatus(status)
		e.Message = strings.TrimSpace(string(body))
		if e.Message == "" || len(e.Message) > 200 {
			e.Message = statusText(status)
		}
	}
	if s, err := strconv.Atoi(retryAfter); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

func codeForStatus(status int) string {
	switch status {
	case 400:
		return protocol.ErrBadRequest
	case 401:
		return protocol.ErrUnauthorized
	case 403:
		return protocol.ErrForbidden
	case 404:
		return protocol.ErrNotFound
	case 409:
		return protocol.ErrConflict
	case 429:
		return protocol.ErrRateLimited
	case 413:
		return protocol.ErrTooLarge
	case 503, 502, 504:
		return protocol.ErrUnavailable
	}
	return protocol.ErrInternal
}

// WebSocketURL turns a node's base URL (http://host:8080, https://host)
// into its WebSocket endpoint (ws://host:8080/ws, wss://host/ws).
func WebSocketURL(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", fmt.Errorf("parse base URL: %w", err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("base URL %q: %w", baseURL, errors.New("scheme must be http or https"))
	}
	if u.Host == "" {
		return "", fmt.Errorf("base URL %q has no host", baseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/") + protocol.PathWS
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}
