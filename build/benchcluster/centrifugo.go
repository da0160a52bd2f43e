package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parleychat/parley/server/loadgen"
)

// centrifugo is the peer column: two Centrifugo nodes with the Redis
// engine on their own Redis, in the shape of a build's stack, configured
// as close to Parley's guarantees as Centrifugo goes: every publication
// kept in the channel's history stream in Redis (offsets, recovery on
// resubscribe), presence off (Centrifugo's is not broadcast to members).
type centrifugo struct {
	nodes
	bin    string
	secret string // the HMAC key of the clients' tokens
}

func newCentrifugo(bin string) (*centrifugo, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate centrifugo secret: %w", err)
	}
	c := &centrifugo{nodes: nodes{label: "centrifugo"}, bin: bin, secret: base64.RawURLEncoding.EncodeToString(b)}
	return c, c.start()
}

// config is node i's configuration file, in Centrifugo v6's layout.
func (c *centrifugo) config(i int) map[string]any {
	return map[string]any{
		"http_server": map[string]any{"address": "127.0.0.1", "port": c.ports[i]},
		"log":         map[string]any{"level": "warn"},
		"engine":      map[string]any{"type": "redis", "redis": map[string]any{"address": []string{c.redisURL}}},
		"client":      map[string]any{"token": map[string]any{"hmac_secret_key": c.secret}},
		"channel": map[string]any{"namespaces": []any{map[string]any{
			"name":                         "bench",
			"allow_subscribe_for_client":   true,
			"allow_publish_for_subscriber": true,
			// A run sends fewer than 10,000 messages to its channel:
			// all of them stay in the stream while it runs.
			"history_size":   10000,
			"history_ttl":    "300s",
			"force_recovery": true,
		}}},
		"health":      map[string]any{"enabled": true},
		"usage_stats": map[string]any{"disabled": true},
	}
}

// restart (re)starts both nodes and waits until they are healthy.
func (c *centrifugo) restart(ctx context.Context) error {
	c.stopNodes()
	for i := range c.ports {
		b, err := json.MarshalIndent(c.config(i), "", "  ")
		if err != nil {
			return fmt.Errorf("encode centrifugo config: %w", err)
		}
		path := filepath.Join(c.dir, fmt.Sprintf("config%d.json", i))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return fmt.Errorf("write centrifugo config: %w", err)
		}
		if err := c.startNode(i, c.bin, []string{"--config", path}, nil); err != nil {
			return err
		}
	}
	return c.waitReady(ctx, "/health")
}

func (c *centrifugo) bench(ctx context.Context, loadgenBin string, sh shape, profiles string) (*loadgen.Result, error) {
	return c.runBench(ctx, loadgenBin, sh, profiles, c.target()...)
}

// target is the load generator's arguments for the peer.
func (c *centrifugo) target() []string {
	return []string{"--target", loadgen.TargetCentrifugo, "--centrifugo-secret", c.secret}
}
