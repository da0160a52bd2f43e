package ws

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
)

// frameHeadBytes is the size of the write buffer coder/websocket gets
// (smallReads): more than the longest header a server writes (10 bytes),
// so a frame's header and the start of its payload fill it.
const frameHeadBytes = 16

// frameWriter is what a connection's frameHeadBytes bufio.Writer writes
// to, and what the connection's writer writes its messages to directly
// (writeText).
//
// coder/websocket writes every frame (all have FIN set: no compression,
// no streaming writer) into that buffer and flushes it at the frame's
// end, so frameWriter sees either a whole frame of at most
// frameHeadBytes, or a full buffer (header and the payload's start)
// followed by one write of the rest. It holds such a head and sends it
// with the rest in one writev, so a frame costs one write call, as it did
// with net/http's 4 KiB buffer (and a frame larger than that took two).
// coder/websocket calls it, under its write lock, for the control frames
// it writes itself (pongs, the close handshake).
//
// The connection's messages skip coder/websocket's Write (its two
// channel locks, its buffer copy and flush, and the stack a fresh writer
// goroutine grows to take them: a fifth of a busy node's CPU) and leave
// through writeText, a header and the message in one writev. mu keeps
// the two kinds of write whole and in order on the socket, and a message
// is refused once a close frame went out, as coder/websocket refuses
// its own.
type frameWriter struct {
	w  io.Writer
	mu sync.Mutex // guards the fields below; a leaf lock
	// head holds the start of a coder/websocket frame until its rest.
	head [frameHeadBytes]byte
	held int // bytes of head waiting for the rest of their frame
	// closeSent: a close frame was written; no message may follow.
	closeSent bool
	// hdr is writeText's frame header.
	hdr [maxHeaderBytes]byte
	// vec and bufs are the writev's two parts, kept here so that a
	// write allocates nothing; both are emptied after each write.
	vec  [2][]byte
	bufs net.Buffers
}

// maxHeaderBytes is the longest header of an unmasked frame: two bytes
// and an 8-byte length.
const maxHeaderBytes = 10

// Write implements io.Writer.
func (fw *frameWriter) Write(p []byte) (int, error) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.held > 0 {
		head := fw.head[:fw.held]
		fw.held = 0
		fw.noteClose(head)
		if err := fw.writev(head, p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if len(p) == frameHeadBytes && frameSize(p) > frameHeadBytes {
		fw.held = copy(fw.head[:], p)
		return len(p), nil
	}
	fw.noteClose(p)
	return fw.w.Write(p)
}

// noteClose records a close frame starting at head.
func (fw *frameWriter) noteClose(head []byte) {
	if len(head) > 0 && head[0]&0x0f == opClose {
		fw.closeSent = true
	}
}

// Frame opcodes (RFC 6455 §5.2) and the FIN bit.
const (
	opText  = 0x1
	opClose = 0x8
	finBit  = 0x80
)

// writeText writes p as one text message (a single unmasked frame): its
// header and p in one writev. It refuses once a close frame went out.
func (fw *frameWriter) writeText(p []byte) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.closeSent {
		return fmt.Errorf("write message: close sent: %w", net.ErrClosed)
	}
	if err := fw.writev(fw.hdr[:putTextHeader(&fw.hdr, len(p))], p); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	return nil
}

// putTextHeader puts the header of an unmasked final text frame of n
// payload bytes into hdr and returns its length.
func putTextHeader(hdr *[maxHeaderBytes]byte, n int) int {
	hdr[0] = finBit | opText
	switch {
	case n < 126:
		hdr[1] = byte(n)
		return 2
	case n <= 0xffff:
		hdr[1] = 126
		binary.BigEndian.PutUint16(hdr[2:4], uint16(n))
		return 4
	default:
		hdr[1] = 127
		binary.BigEndian.PutUint64(hdr[2:10], uint64(n))
		return 10
	}
}

// writev writes a and b in one write call (on a socket). Called under mu.
func (fw *frameWriter) writev(a, b []byte) error {
	fw.vec = [2][]byte{a, b}
	fw.bufs = fw.vec[:]
	_, err := fw.bufs.WriteTo(fw.w)
	fw.vec, fw.bufs = [2][]byte{}, nil // hold no frame while idle
	return err
}

// frameSize is the length of the WebSocket frame whose header starts p
// (RFC 6455 §5.2), or -1 when p is too short to tell.
func frameSize(p []byte) int64 {
	if len(p) < 2 {
		return -1
	}
	n, hdr := int64(p[1]&0x7f), int64(2)
	switch n {
	case 126:
		if len(p) < 4 {
			return -1
		}
		n, hdr = int64(binary.BigEndian.Uint16(p[2:4])), 4
	case 127:
		if len(p) < 10 {
			return -1
		}
		n, hdr = int64(binary.BigEndian.Uint64(p[2:10])&(1<<63-1)), 10
	}
	if p[1]&0x80 != 0 {
		hdr += 4 // a mask key (clients only)
	}
	return hdr + n
}
