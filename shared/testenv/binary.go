//go:build !js

package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// BinaryEnv names a prebuilt parley binary for the tests to run. make test
// builds it once (with -race) and exports it, so the packages that start
// node processes share one build; without it each test process builds its
// own on first use.
const BinaryEnv = "PARLEY_TEST_BINARY"

var built struct {
	once sync.Once
	dir  string // removed by cleanupProcess
	path string
	err  error
}

// ParleyBinary returns the parley binary for this test run: $PARLEY_TEST_BINARY
// when set, else one built on first use from the module root, with -race
// when this test binary has it. The build embeds whatever build/web holds.
func ParleyBinary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() { built.path, built.err = parleyBinary() })
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

func parleyBinary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			return "", fmt.Errorf("%s=%s is not a binary: %v", BinaryEnv, p, err)
		}
		return p, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "parley-test-bin-")
	if err != nil {
		return "", fmt.Errorf("build parley: %w", err)
	}
	built.dir = dir
	out := filepath.Join(dir, "parley")
	args := []string{"build", "-o", out}
	if RaceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "./server/cmd/parley")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build parley (go %s): %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

var root struct {
	once sync.Once
	dir  string
	err  error
}

// ModuleRoot is the directory holding the module's go.mod.
func ModuleRoot() (string, error) {
	root.once.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			root.err = fmt.Errorf("find module root: go env GOMOD: %w", err)
			return
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			root.err = fmt.Errorf("find module root: not inside a Go module")
			return
		}
		root.dir = filepath.Dir(gomod)
	})
	return root.dir, root.err
}

// ArtifactDir returns build/test-artifacts/<kind>/<test name> under the
// module root, created, for logs and screenshots CI keeps.
func ArtifactDir(t testing.TB, kind string) (string, error) {
	r, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(r, "build", "test-artifacts", kind, Sanitize(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create artifact folder: %w", err)
	}
	return dir, nil
}

// Sanitize makes a test name usable as a file name.
func Sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', ' ', ':', '\\':
			return '_'
		}
		return r
	}, name)
}

// cleanupProcess removes what this package started for the whole test
// process.
func cleanupProcess() {
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	if shared.srv != nil {
		_ = shared.srv.Close()
	}
}
