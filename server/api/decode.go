package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/parleychat/parley/shared/protocol"
)

// decodeBody reads the request body (already limited by ServeHTTP) into v,
// which must be a pointer to a struct. The body must be one JSON object
// sent as application/json; unknown fields are ignored, as in frames.
func decodeBody(r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, protocol.ErrBadRequest, "Content-Type must be application/json")
	}
	data, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return errorf(http.StatusRequestEntityTooLarge, protocol.ErrTooLarge, "request body larger than %d bytes", tooBig.Limit)
	case err != nil:
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "read request body: %v", err)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "request body is empty")
	}
	if data[0] != '{' {
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "request body must be a JSON object")
	}
	return jsonError(json.Unmarshal(data, v))
}

// jsonError turns a json.Unmarshal error into a 400 that says what is
// wrong without echoing the input.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "field %q must be a %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)
	case errors.As(err, &typeErr):
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "request body has a wrong type: %s", typeErr.Value)
	case errors.As(err, &syntaxErr):
		return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "invalid JSON at byte %d", syntaxErr.Offset)
	}
	return errorf(http.StatusBadRequest, protocol.ErrBadRequest, "invalid JSON")
}
