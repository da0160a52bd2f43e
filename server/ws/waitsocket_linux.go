package ws

import (
	"syscall"
	"unsafe"
)

// waitSocket returns once the socket has bytes to read, has ended or
// failed (a peek that does not block says which), without reading
// anything, so a waiting goroutine's stack holds only the runtime's
// netpoll wait. The peek comes first: Go's poller is edge-triggered, so
// waiting on bytes that arrived before the wait would block for good.
func waitSocket(raw syscall.RawConn) {
	var b [1]byte
	_ = raw.Read(func(fd uintptr) bool {
		for {
			_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if err != syscall.EINTR {
				return err != syscall.EAGAIN
			}
		}
	})
}

// socketBuffered returns how many bytes the socket holds that a read
// takes at once (FIONREAD), 0 when it cannot tell.
func socketBuffered(raw syscall.RawConn) int {
	var n int32
	var errno syscall.Errno
	if err := raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	}); err != nil || errno != 0 || n < 0 {
		return 0
	}
	return int(n)
}
