package node

import (
	"io"
	"strings"
	"testing"
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
