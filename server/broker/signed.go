package broker

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/parleychat/parley/server/faultlog"
)

// MACSize is how many bytes Signed appends to each payload.
const MACSize = sha256.Size

// MinClusterKeyBytes is the shortest cluster key NewSigned accepts.
const MinClusterKeyBytes = 32

// errBadMAC is what Signed logs for a payload it drops.
var errBadMAC = errors.New("payload without a valid cluster MAC; dropped")

// Signed wraps a Broker so that nodes accept only payloads published by a
// node holding the cluster key: anyone who can reach Redis can PUBLISH,
// but cannot forge a message, a typing event or a presence announcement.
//
// Publish appends an HMAC-SHA256 tag over the room name, a zero byte and
// the payload; Run hands the handler only payloads whose tag verifies
// under one of the keys (the first key signs, all verify, so a key can be
// rotated node by node), with the tag removed. Anything else is dropped,
// counted (Dropped) and logged once, then summarised. The payload is
// opaque to Signed: whatever format the hub publishes passes through.
//
// A tag binds a payload to its room, not to a time: a replayed payload is
// an old event, which the hub already ignores (its offset was delivered).
type Signed struct {
	Broker
	keys    []*macPool
	dropped atomic.Int64
	faults  *faultlog.Log
}

var _ Broker = (*Signed)(nil)

// macPool reuses HMAC states of one key.
type macPool struct{ sync.Pool }

func newMACPool(key []byte) *macPool {
	p := &macPool{}
	p.New = func() any { return hmac.New(sha256.New, key) }
	return p
}

// sum appends the tag of (room, payload) to dst.
func (p *macPool) sum(dst []byte, room string, payload []byte) []byte {
	m := p.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(room))
	m.Write([]byte{0})
	m.Write(payload)
	dst = m.Sum(dst)
	p.Put(m)
	return dst
}

// NewSigned wraps b with keys (each at least MinClusterKeyBytes; the first
// signs). Failures are logged to log (nil: slog.Default()).
func NewSigned(b Broker, keys [][]byte, log *slog.Logger) (*Signed, error) {
	if len(keys) == 0 {
		return nil, errors.New("signed broker needs at least one cluster key")
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Signed{Broker: b, faults: faultlog.New(log, "broker payload authentication", 0, nil)}
	for i, k := range keys {
		if len(k) < MinClusterKeyBytes {
			return nil, fmt.Errorf("cluster key %d is %d bytes, want at least %d", i+1, len(k), MinClusterKeyBytes)
		}
		s.keys = append(s.keys, newMACPool(k))
	}
	return s, nil
}

// ParseClusterKeys parses "base64[,base64…]" (standard or URL encoding,
// padded or not).
func ParseClusterKeys(s string) ([][]byte, error) {
	var keys [][]byte
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, err := decodeBase64(part)
		if err != nil {
			return nil, fmt.Errorf("cluster key %d: %w", i+1, err)
		}
		if len(k) < MinClusterKeyBytes {
			return nil, fmt.Errorf("cluster key %d is %d bytes, want at least %d", i+1, len(k), MinClusterKeyBytes)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no cluster key given")
	}
	return keys, nil
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("not base64")
}

// Publish implements Broker: it publishes payload with its tag appended.
func (s *Signed) Publish(ctx context.Context, room string, payload []byte) error {
	sealed := make([]byte, len(payload), len(payload)+MACSize)
	copy(sealed, payload)
	return s.Broker.Publish(ctx, room, s.keys[0].sum(sealed, room, payload))
}

// PublishAll implements Broker: each payload with its tag appended.
func (s *Signed) PublishAll(ctx context.Context, room string, payloads [][]byte) error {
	sealed := make([][]byte, len(payloads))
	for i, payload := range payloads {
		b := make([]byte, len(payload), len(payload)+MACSize)
		copy(b, payload)
		sealed[i] = s.keys[0].sum(b, room, payload)
	}
	return s.Broker.PublishAll(ctx, room, sealed)
}

// Run implements Broker: h sees verified payloads only, without the tag.
func (s *Signed) Run(ctx context.Context, h Handler) error {
	return s.Broker.Run(ctx, verifier{s: s, h: h})
}

// Dropped returns how many payloads failed verification.
func (s *Signed) Dropped() int64 { return s.dropped.Load() }

// Unwrap returns the wrapped broker.
func (s *Signed) Unwrap() Broker { return s.Broker }

// open returns payload without its tag, and whether the tag verifies.
func (s *Signed) open(room string, sealed []byte) ([]byte, bool) {
	if len(sealed) < MACSize {
		return nil, false
	}
	payload, tag := sealed[:len(sealed)-MACSize], sealed[len(sealed)-MACSize:]
	var buf [MACSize]byte
	for _, k := range s.keys {
		if hmac.Equal(tag, k.sum(buf[:0], room, payload)) {
			return payload, true
		}
	}
	return nil, false
}

type verifier struct {
	s *Signed
	h Handler
}

func (v verifier) Deliver(room string, sealed []byte) {
	payload, ok := v.s.open(room, sealed)
	if !ok {
		v.s.dropped.Add(1)
		v.s.faults.Fail(errBadMAC, "room", room, "bytes", len(sealed))
		return
	}
	v.h.Deliver(room, payload)
}

func (v verifier) Interrupted(rooms []string) { v.h.Interrupted(rooms) }
