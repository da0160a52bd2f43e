// Package http holds the HTTP methods and statuses the browser app's API
// calls name, under net/http's names, so that app/ui reads as if it used
// net/http without importing it: net/http brings crypto/tls and about 2 MB
// into app.wasm, which the linker cannot drop (app's
// TestWasmLeavesOutNetHTTP keeps it out).
package http

// HTTP methods, as in net/http.
const (
	MethodGet    = "GET"
	MethodHead   = "HEAD"
	MethodPost   = "POST"
	MethodPut    = "PUT"
	MethodPatch  = "PATCH"
	MethodDelete = "DELETE"
)

// HTTP statuses, as in net/http.
const (
	StatusOK                  = 200
	StatusCreated             = 201
	StatusNoContent           = 204
	StatusBadRequest          = 400
	StatusUnauthorized        = 401
	StatusForbidden           = 403
	StatusNotFound            = 404
	StatusConflict            = 409
	StatusTooManyRequests     = 429
	StatusInternalServerError = 500
	StatusServiceUnavailable  = 503
)
