package broker_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/broker/brokertest"
	"github.com/parleychat/parley/shared/testenv"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, broker.MinClusterKeyBytes)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func signed(t testing.TB, b broker.Broker, keys ...[]byte) *broker.Signed {
	t.Helper()
	s, err := broker.NewSigned(b, keys, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The signed wrapper keeps the broker contract, on both brokers.
func TestSignedMemory(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) broker.Broker { return signed(t, broker.NewMemory(), newKey(t)) })
}

func TestSignedRedis(t *testing.T) {
	srv := testenv.StartRedis(t)
	brokertest.Run(t, func(t *testing.T) broker.Broker {
		return signed(t, newRedis(t, srv.URL(), broker.RedisOptions{}), newKey(t))
	})
}

// TestSignedDropsForgedPayloads: raw PUBLISHes to a room's channel (no
// tag, a tag under another key, a tag for another room, a truncated one)
// never reach the handler and are counted. Mid-rotation, a node signing
// with the old key and one signing with the new key (each verifying both)
// hear each other.
func TestSignedDropsForgedPayloads(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	prefix := "test:" + t.Name() + ":"
	oldKey, newKey, otherKey := newKey(t), newKey(t), newKey(t)
	a := signed(t, newRedis(t, srv.URL(), broker.RedisOptions{Prefix: prefix}), oldKey, newKey)
	b := signed(t, newRedis(t, srv.URL(), broker.RedisOptions{Prefix: prefix}), newKey, oldKey)
	ra, rb := brokertest.Start(t, a), brokertest.Start(t, b)
	for _, s := range []*broker.Signed{a, b} {
		if err := s.Subscribe(ctx, "general"); err != nil {
			t.Fatal(err)
		}
	}

	rc := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rc.Close()
	channel := prefix + "room:general"
	payload := []byte(`{"v":1,"type":"msg","msg":{"room":"general","offset":999999999,"author":"admin","body":"x","ts":1}}`)
	otherRoom := sealWith(t, oldKey, "random", payload)
	forged := [][]byte{
		payload,
		sealWith(t, otherKey, "general", payload),
		otherRoom,
		sealWith(t, oldKey, "general", payload)[:len(payload)+broker.MACSize-1],
		nil,
	}
	for _, f := range forged {
		if err := rc.Publish(ctx, channel, f).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Publish(ctx, "general", []byte("from a")); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, "general", []byte("from b")); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*brokertest.Recorder{"a": ra, "b": rb} {
		// Redis delivers in publish order: once "from b" is in, every
		// forged payload has been seen and dropped.
		got := r.WaitPayloads(t, "general", 2)
		if len(got) != 2 || !bytes.Equal(got[0], []byte("from a")) || !bytes.Equal(got[1], []byte("from b")) {
			t.Fatalf("%s got %q, want only [from a, from b]", name, got)
		}
	}
	testenv.Eventually(t, 15*time.Second, "both count every forged payload", testenv.Cond(func() bool {
		return a.Dropped() == int64(len(forged)) && b.Dropped() == int64(len(forged))
	}))
}

// sealWith returns payload with the tag a node holding key would append
// when publishing it to room (a Signed over a broker that records).
func sealWith(t *testing.T, key []byte, room string, payload []byte) []byte {
	t.Helper()
	cap := &capture{}
	s := signed(t, cap, key)
	if err := s.Publish(context.Background(), room, payload); err != nil {
		t.Fatal(err)
	}
	return cap.last
}

// capture is a Broker that keeps the last payload published.
type capture struct {
	broker.Broker
	last []byte
}

func (c *capture) Publish(_ context.Context, _ string, p []byte) error {
	c.last = bytes.Clone(p)
	return nil
}

func (c *capture) PublishAll(ctx context.Context, room string, ps [][]byte) error {
	for _, p := range ps {
		if err := c.Publish(ctx, room, p); err != nil {
			return err
		}
	}
	return nil
}

func TestParseClusterKeys(t *testing.T) {
	good := "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0=" // 35 bytes
	if keys, err := broker.ParseClusterKeys(good + ", " + good); err != nil || len(keys) != 2 {
		t.Fatalf("ParseClusterKeys(two good) = %d keys, %v", len(keys), err)
	}
	for _, bad := range []string{"", " , ", "c2hvcnQ=", "not base64!"} {
		if _, err := broker.ParseClusterKeys(bad); err == nil {
			t.Errorf("ParseClusterKeys(%q) succeeded", bad)
		}
	}
	if _, err := broker.NewSigned(broker.NewMemory(), [][]byte{[]byte("short")}, slog.Default()); err == nil {
		t.Error("NewSigned accepted a short key")
	}
}

// FuzzSignedDeliver: no input crashes the verifier, and bytes not sealed
// with the key never reach the handler.
func FuzzSignedDeliver(f *testing.F) {
	key := bytes.Repeat([]byte{7}, broker.MinClusterKeyBytes)
	f.Add("general", []byte(`{"v":1,"type":"typing","room":"general","user":"x"}`))
	f.Add("", []byte{})
	f.Add("r", bytes.Repeat([]byte{0}, broker.MACSize))
	f.Fuzz(func(t *testing.T, room string, raw []byte) {
		m := broker.NewMemory()
		s, err := broker.NewSigned(m, [][]byte{key}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		rec := brokertest.NewRecorder()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx, rec) }()
		if err := m.Subscribe(ctx, room); err == nil {
			_ = m.Publish(ctx, room, raw) // bypasses the signer
		}
		cancel()
		<-done
		if got := rec.Payloads(room); len(got) != 0 {
			t.Fatalf("unsigned bytes delivered: %q", got)
		}
	})
}
