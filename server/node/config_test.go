package node

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/budget"
	"github.com/parleychat/parley/server/hub"
)

func TestAppVersionFlag(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		args []string
		env  map[string]string
		want string
		err  string
	}{
		{args: nil, want: ""},
		{args: []string{"--app-version", "2026.12.01-a1"}, want: "2026.12.01-a1"},
		{env: map[string]string{"PARLEY_APP_VERSION": "v7"}, want: "v7"},
		{args: []string{"--app-version", "v8"}, env: map[string]string{"PARLEY_APP_VERSION": "v7"}, want: "v8"},
		{args: []string{"--app-version", `v1"</script>`}, err: "--app-version"},
		{args: []string{"--app-version", "a/b"}, err: "--app-version"},
		{args: []string{"--app-version", strings.Repeat("x", 65)}, err: "--app-version"},
	}
	for _, c := range cases {
		cfg, err := ParseFlags("test", c.args, env(c.env), io.Discard)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v %v: error %v, want one naming %s", c.args, c.env, err, c.err)
			}
		case err != nil:
			t.Errorf("%v %v: %v", c.args, c.env, err)
		case cfg.AppVersion != c.want:
			t.Errorf("%v %v: AppVersion %q, want %q", c.args, c.env, cfg.AppVersion, c.want)
		}
	}
}

// TestLimitFlags: the limits read their flags and environment variables,
// default to the documented values and refuse values that cannot work.
func TestLimitFlags(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := ParseFlags("test", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UserSend != budget.Defaults || cfg.LoginBackoff != budget.DefaultPolicy || cfg.PasswordParams != auth.DefaultParams ||
		cfg.AuthRate != 1 || cfg.AuthBurst != 10 || cfg.AuthRate48 != 4 || cfg.AuthBurst48 != 40 || cfg.HashQueue != auth.DefaultHashQueue ||
		cfg.FrameRate != 100 || cfg.FrameBurst != 200 || cfg.RoomRate != 1 || cfg.RoomBurst != 10 {
		t.Fatalf("defaults: %+v", cfg)
	}
	cfg, err = ParseFlags("test", []string{"--argon2-memory", "19456", "--argon2-threads", "1", "--user-send-rate", "5", "--login-backoff", "3s"},
		env(map[string]string{"PARLEY_ARGON2_TIME": "2", "PARLEY_USER_SEND_BYTES_BURST": "20000", "PARLEY_HASH_QUEUE": "4"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.PasswordParams; p.Memory != auth.OWASPParams.Memory || p.Time != 2 || p.Threads != 1 || cfg.UserSend.Rate != 5 ||
		cfg.UserSend.ByteBurst != 20000 || cfg.LoginBackoff.Base != 3*time.Second || cfg.HashQueue != 4 {
		t.Fatalf("set: %+v", cfg)
	}
	for _, args := range [][]string{
		{"--user-send-rate", "0"},
		{"--user-send-bytes-burst", "1000"}, // smaller than the largest body
		{"--auth-burst", "0"},
		{"--login-backoff-max", "1ms"},
		{"--hash-queue", "0"},
		{"--argon2-memory", "4"},
		{"--argon2-threads", "256"},
		{"--frame-burst", "0"},
		{"--room-rate", "0"},
	} {
		if _, err := ParseFlags("test", args, env(nil), io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestGCPercentFlag: --gc-percent defaults to DefaultGCPercent, is read
// from its flag and PARLEY_GC_PERCENT, gives way to a GOGC in the
// environment unless set itself, and refuses a negative value.
func TestGCPercentFlag(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		args []string
		env  map[string]string
		want int
	}{
		{want: DefaultGCPercent},
		{args: []string{"--gc-percent", "50"}, want: 50},
		{env: map[string]string{"PARLEY_GC_PERCENT": "40"}, want: 40},
		{args: []string{"--gc-percent", "0"}, want: 0},
		{env: map[string]string{"GOGC": "200"}, want: 0},
		{args: []string{"--gc-percent", "30"}, env: map[string]string{"GOGC": "200"}, want: 30},
		{env: map[string]string{"GOGC": "200", "PARLEY_GC_PERCENT": "35"}, want: 35},
	}
	for _, c := range cases {
		cfg, err := ParseFlags("test", c.args, env(c.env), io.Discard)
		if err != nil {
			t.Errorf("%v %v: %v", c.args, c.env, err)
			continue
		}
		if cfg.GCPercent != c.want {
			t.Errorf("%v %v: GCPercent %d, want %d", c.args, c.env, cfg.GCPercent, c.want)
		}
	}
	if _, err := ParseFlags("test", []string{"--gc-percent", "-1"}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "--gc-percent") {
		t.Errorf("--gc-percent -1: error %v, want one naming --gc-percent", err)
	}
}

// TestCoalesceAndGapWaitFlags: --coalesce, --coalesce-max and --gap-wait default to the
// hub's defaults, read their flag and environment variable, take 0 (off)
// and refuse a negative or overlong window; the hub gets -1 for 0 (its
// own 0 is the default).
func TestCoalesceAndGapWaitFlags(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, f := range []struct {
		flag, env string
		def       time.Duration
		get       func(Config) time.Duration
	}{
		{"coalesce", "PARLEY_COALESCE", hub.DefaultCoalesce, func(c Config) time.Duration { return c.Coalesce }},
		{"coalesce-max", "PARLEY_COALESCE_MAX", hub.DefaultCoalesceMax, func(c Config) time.Duration { return c.CoalesceMax }},
		{"gap-wait", "PARLEY_GAP_WAIT", hub.DefaultGapWait, func(c Config) time.Duration { return c.GapWait }},
	} {
		cases := []struct {
			args []string
			env  map[string]string
			want time.Duration
		}{
			{nil, nil, f.def},
			{[]string{"--" + f.flag, "35ms"}, nil, 35 * time.Millisecond},
			{nil, map[string]string{f.env: "0"}, 0},
		}
		for _, c := range cases {
			cfg, err := ParseFlags("test", c.args, env(c.env), io.Discard)
			if err != nil {
				t.Fatalf("%v %v: %v", c.args, c.env, err)
			}
			if got := f.get(cfg); got != c.want {
				t.Errorf("%v %v: %s %v, want %v", c.args, c.env, f.flag, got, c.want)
			}
		}
		for _, v := range []string{"-1ms", "2s"} {
			if _, err := ParseFlags("test", []string{"--" + f.flag, v}, env(nil), io.Discard); err == nil {
				t.Errorf("--%s %s: no error", f.flag, v)
			}
		}
	}
	if got := offIfZero(0); got >= 0 {
		t.Errorf("0 gives the hub %v, want a negative window (off)", got)
	}
}
