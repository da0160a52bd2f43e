//go:build !linux

package ws

import "syscall"

// waitSocket returns at once where the wait is not implemented: the
// reader then waits inside coder/websocket's Read, on a fresh stack.
func waitSocket(syscall.RawConn) {}

// socketBuffered is 0 where it is not implemented: a batch then takes
// only the frames already in the read buffer.
func socketBuffered(syscall.RawConn) int { return 0 }
