//go:build !linux

package ws

import "syscall"

// waitSocket returns at once where the wait is not implemented: the
// reader then waits inside coder/websocket's Read, on a fresh stack.
func waitSocket(syscall.RawConn) {}
