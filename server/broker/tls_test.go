package broker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/broker/brokertest"
	"github.com/parleychat/parley/server/certs"
	"github.com/parleychat/parley/shared/testenv"
)

// clientTLS is the client side trusting files' CA.
func clientTLS(t *testing.T, files testenv.TLSFiles) broker.RedisOptions {
	t.Helper()
	c, err := certs.ClientConfig(files.CA, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return broker.RedisOptions{TLS: c}
}

// TestRedisTLS runs the whole broker contract over TLS to a Redis that
// has no plaintext port.
func TestRedisTLS(t *testing.T) {
	files := testenv.NewTLS(t)
	srv := testenv.StartRedisTLS(t, files)
	if !strings.HasPrefix(srv.URL(), "rediss://") {
		t.Fatalf("TLS server URL %s", srv.URL())
	}
	brokertest.Run(t, func(t *testing.T) broker.Broker {
		return newRedis(t, srv.URL(), clientTLS(t, files))
	})
}

// publishErr is the error of one Publish through a broker on url.
func publishErr(t *testing.T, url string, opts broker.RedisOptions) error {
	t.Helper()
	b := newRedis(t, url, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return b.Publish(ctx, "r", []byte("x"))
}

func TestRedisTLSRefusesWrongCA(t *testing.T) {
	srv := testenv.StartRedisTLS(t, testenv.NewTLS(t))
	err := publishErr(t, srv.URL(), clientTLS(t, testenv.NewTLS(t)))
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("publish with the wrong CA: %v, want certificate signed by unknown authority", err)
	}
	// Without a CA the system roots apply, which do not know the test CA
	// either.
	if err := publishErr(t, srv.URL(), broker.RedisOptions{}); err == nil {
		t.Fatal("publish trusting only the system roots succeeded")
	}
}

func TestRedisTLSVerifiesServerName(t *testing.T) {
	files, err := certs.Generate(t.TempDir(), []string{"redis.internal"})
	if err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartRedisTLS(t, files)
	err = publishErr(t, srv.URL(), clientTLS(t, files))
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("publish to a server whose certificate names another host: %v, want a name mismatch", err)
	}
}

func TestRedisTLSFilesNeedRedissURL(t *testing.T) {
	files := testenv.NewTLS(t)
	opts := clientTLS(t, files)
	opts.URL = "redis://127.0.0.1:6379/0"
	_, err := broker.NewRedis(opts)
	if err == nil || !strings.Contains(err.Error(), "rediss://") {
		t.Fatalf("NewRedis with TLS files and a redis:// URL: %v, want an error naming rediss://", err)
	}
}
