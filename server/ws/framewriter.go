package ws

import (
	"encoding/binary"
	"io"
	"net"
)

// frameHeadBytes is the size of the write buffer coder/websocket gets
// (smallReads): more than the longest header a server writes (10 bytes),
// so a frame's header and the start of its payload fill it.
const frameHeadBytes = 16

// frameWriter is what a connection's frameHeadBytes bufio.Writer writes
// to. coder/websocket writes every frame (all have FIN set: no
// compression, no streaming writer) into that buffer and flushes it at the
// frame's end, so frameWriter sees either a whole frame of at most
// frameHeadBytes, or a full buffer (header and the payload's start)
// followed by one write of the rest. It holds such a head and sends it
// with the rest in one writev, so a frame costs one write call, as it did
// with net/http's 4 KiB buffer (and a frame larger than that took two).
// Only coder/websocket calls it, under its write lock.
type frameWriter struct {
	w    io.Writer
	head [frameHeadBytes]byte
	held int // bytes of head waiting for the rest of their frame
	// vec and bufs are the writev's two parts, kept here so that a
	// write allocates nothing; both are emptied after each write.
	vec  [2][]byte
	bufs net.Buffers
}

// Write implements io.Writer.
func (fw *frameWriter) Write(p []byte) (int, error) {
	if fw.held > 0 {
		fw.vec = [2][]byte{fw.head[:fw.held], p}
		fw.bufs = fw.vec[:]
		fw.held = 0
		_, err := fw.bufs.WriteTo(fw.w)
		fw.vec, fw.bufs = [2][]byte{}, nil // hold no frame while idle
		if err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if len(p) == frameHeadBytes && frameSize(p) > frameHeadBytes {
		fw.held = copy(fw.head[:], p)
		return len(p), nil
	}
	return fw.w.Write(p)
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
