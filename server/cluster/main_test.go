package cluster_test

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

// binDir holds the parley binary built for this test process.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "parley-cluster-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	return m.Run()
}

// build is the one build of the parley binary, made on first use.
var build struct {
	once sync.Once
	path string
	err  error
}

// parleyBinary returns the path of the parley binary, building it on
// first use from the module root, with -race when the tests run with it.
func parleyBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() { build.path, build.err = buildParley() })
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

func buildParley() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build parley: go command not found: %w", err)
	}
	out := filepath.Join(binDir, "parley")
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "./server/cmd/parley")
	cmd := exec.Command(goBin, args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build parley (go %s): %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// moduleRoot is the directory of the go.mod this package belongs to.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find module root: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("find module root: not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}
