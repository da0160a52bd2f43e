package node_test

import (
	"bufio"
	"encoding/base64"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/parleychat/parley/server/node"
)

// composeNodeEnv reads the environment every node gets in
// build/compose.yaml (the x-node-env block), with ${VAR:?…} references
// replaced by values of the right shape.
func composeNodeEnv(t *testing.T, compose string) map[string]string {
	t.Helper()
	secret := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("s", 32)))
	fill := map[string]string{
		"PARLEY_JWT_KEYS":    "k1:" + secret,
		"PARLEY_CLUSTER_KEY": secret,
	}
	ref := regexp.MustCompile(`\$\{(\w+)(:\?[^}]*)?\}`)
	env := map[string]string{}
	in := false
	sc := bufio.NewScanner(strings.NewReader(compose))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "x-node-env:"):
			in = true
		case in && strings.HasPrefix(line, "  ") && !strings.HasPrefix(strings.TrimSpace(line), "#"):
			k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
			if !ok {
				t.Fatalf("x-node-env line %q", line)
			}
			env[k] = ref.ReplaceAllStringFunc(v, func(m string) string {
				name := ref.FindStringSubmatch(m)[1]
				if f, ok := fill[name]; ok {
					return f
				}
				return "pw"
			})
		case in && !strings.HasPrefix(line, "  ") && strings.TrimSpace(line) != "":
			in = false
		}
	}
	if len(env) == 0 {
		t.Fatal("no x-node-env block in build/compose.yaml")
	}
	return env
}

// TestComposeUsesTLS checks the shipped compose file: the nodes' settings
// parse as flags do, Redis is reached over rediss:// trusting the
// generated CA, PostgreSQL with verify-full, and the servers are set up
// for TLS from the certs volume.
func TestComposeUsesTLS(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../build/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	compose := string(b)
	env := composeNodeEnv(t, compose)
	cfg, err := node.ParseFlags("compose", []string{"--node-id", "n"}, func(k string) string { return env[k] }, new(strings.Builder))
	if err != nil {
		t.Fatalf("the compose file's node settings: %v", err)
	}
	if !strings.HasPrefix(cfg.RedisURL, "rediss://") || cfg.RedisCA != "/certs/ca.crt" {
		t.Errorf("Redis: %q trusting %q, want rediss:// trusting /certs/ca.crt", cfg.RedisURL, cfg.RedisCA)
	}
	if !strings.Contains(cfg.PostgresURL, "sslmode=verify-full") || !strings.Contains(cfg.PostgresURL, "sslrootcert=/certs/ca.crt") {
		t.Errorf("PostgreSQL URL %q, want sslmode=verify-full and sslrootcert=/certs/ca.crt", cfg.PostgresURL)
	}
	for _, want := range []string{
		`command: ["gen-certs", "--dir", "/certs", "--hosts", "redis,postgres"]`,
		`"--port", "0", "--tls-port", "6379"`,
		`"--tls-cert-file", "/certs/server.crt"`,
		`"-c", "ssl=on"`,
		`"ssl_cert_file=/certs/server.crt"`,
		`condition: service_completed_successfully`,
		`- certs:/certs:ro`,
		`redis-cli --tls --cacert /certs/ca.crt`,
	} {
		if !strings.Contains(compose, want) {
			t.Errorf("build/compose.yaml lacks %s", want)
		}
	}
	if strings.Contains(compose, "sslmode=disable") || strings.Contains(compose, "redis://") {
		t.Error("build/compose.yaml still has a plaintext redis:// or sslmode=disable URL")
	}
}
