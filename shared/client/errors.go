package client

import (
	"errors"
	"fmt"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// Sentinel errors. Match them with errors.Is.
var (
	// ErrNotConnected: the request needs a live connection and there is none.
	ErrNotConnected = errors.New("not connected")
	// ErrUnauthorized: the credentials were rejected; sign in again.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrSessionEnded: the session was ended (signed out here or
	// everywhere, password changed, account deleted, or a replayed
	// refresh token); sign in again. It matches ErrUnauthorized too.
	ErrSessionEnded = errors.New("session ended")
	// ErrProtocol: the node closed the connection because the client sent
	// something that is not a Parley frame.
	ErrProtocol = errors.New("protocol error")
	// ErrOutboxFull: Config.OutboxSize messages are waiting for their ack.
	ErrOutboxFull = errors.New("outbox full")
	// ErrSendQueueFull: the connection's send queue is full.
	ErrSendQueueFull = errors.New("send queue full")
	// ErrTooManyRooms: more than protocol.MaxSubscriptions subscriptions.
	ErrTooManyRooms = errors.New("too many subscriptions")
	// ErrHeartbeatTimeout: no frame arrived for too long, not even an
	// answer to a ping; the connection is treated as dead.
	ErrHeartbeatTimeout = errors.New("heartbeat timeout")
	// ErrAlreadyRunning: Run was called while another Run is active.
	ErrAlreadyRunning = errors.New("client already running")
)

// CloseError reports a close code that ends Run: the node said not to
// reconnect with the same credentials.
type CloseError struct {
	Code   protocol.CloseCode
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("connection closed with code %d", int(e.Code))
	}
	return fmt.Sprintf("connection closed with code %d: %s", int(e.Code), e.Reason)
}

// Is makes errors.Is(err, ErrUnauthorized) hold for CloseUnauthorized and
// CloseSessionEnded, errors.Is(err, ErrSessionEnded) for CloseSessionEnded
// and errors.Is(err, ErrProtocol) for CloseProtocolError.
func (e *CloseError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Code == protocol.CloseUnauthorized || e.Code == protocol.CloseSessionEnded
	case ErrSessionEnded:
		return e.Code == protocol.CloseSessionEnded
	case ErrProtocol:
		return e.Code == protocol.CloseProtocolError
	}
	return false
}

// sessionEnded is the CloseError a session_ended error frame stands for:
// the node sends it just before it closes with CloseSessionEnded.
func sessionEnded(f protocol.Frame) *CloseError {
	return &CloseError{Code: protocol.CloseSessionEnded, Reason: f.Message}
}

// ServerError is an error frame a node sent in answer to a request.
type ServerError struct {
	Code    string // one of the protocol.Err* codes
	Message string
	// Ref is the cid or request id the error answers; empty when the error
	// is about the connection as a whole.
	Ref        string
	RetryAfter time.Duration
}

func serverError(f protocol.Frame) *ServerError {
	return &ServerError{
		Code:       f.Code,
		Message:    f.Message,
		Ref:        f.Ref,
		RetryAfter: time.Duration(f.RetryAfter) * time.Millisecond,
	}
}

func (e *ServerError) Error() string {
	return "node: " + e.Code + ": " + e.Message
}

// Is makes errors.Is(err, ErrUnauthorized) hold for the unauthorized code.
func (e *ServerError) Is(target error) bool {
	return target == ErrUnauthorized && e.Code == protocol.ErrUnauthorized
}

// retryable reports whether resending the same request later may succeed.
// Every other code is a permanent refusal.
func (e *ServerError) retryable() bool {
	switch e.Code {
	case protocol.ErrRateLimited, protocol.ErrUnavailable, protocol.ErrInternal:
		return true
	}
	return false
}
