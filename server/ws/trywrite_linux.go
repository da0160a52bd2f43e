package ws

import (
	"syscall"
	"unsafe"
)

// tryState is one tryWritev's arguments and result, kept in the
// frameWriter so that the callback given to the socket (rawWrite, made
// once) allocates nothing.
type tryState struct {
	iov   [2]syscall.Iovec
	iovs  int
	n     int
	errno syscall.Errno
	fn    func(fd uintptr) bool // rawWrite, made at the first try
}

// tryWritev writes a and b in one writev as far as the socket takes them
// without blocking, and returns how many bytes it wrote: 0 when the
// socket's buffer is full. Called under mu.
func (fw *frameWriter) tryWritev(a, b []byte) (int, error) {
	t := &fw.try
	if t.fn == nil {
		t.fn = fw.rawWrite
	}
	t.iovs, t.n, t.errno = 0, 0, 0
	for _, p := range [2][]byte{a, b} {
		if len(p) > 0 {
			t.iov[t.iovs].Base = &p[0]
			t.iov[t.iovs].SetLen(len(p))
			t.iovs++
		}
	}
	err := fw.raw.Write(t.fn)
	t.iov = [2]syscall.Iovec{} // hold no frame while idle
	if err != nil {
		return 0, err
	}
	switch t.errno {
	case 0:
		return t.n, nil
	case syscall.EAGAIN:
		return 0, nil
	default:
		return 0, t.errno
	}
}

// rawWrite is the socket callback of tryWritev: one writev, never a wait
// (it returns true on EAGAIN too, so the poller does not park it).
func (fw *frameWriter) rawWrite(fd uintptr) bool {
	t := &fw.try
	for {
		n, _, errno := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&t.iov[0])), uintptr(t.iovs))
		if errno == syscall.EINTR {
			continue
		}
		t.n, t.errno = int(n), errno
		return true
	}
}
