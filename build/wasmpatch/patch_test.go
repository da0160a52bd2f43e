package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorded returns the module root and the patches upstream.sha256 lists.
func recorded(t *testing.T) (string, []patch) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	patches, err := readPatches(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, patches
}

// upstream returns the recorded patches and a temporary copy of each
// module's upstream files, laid out as in the module cache.
func upstream(t *testing.T) ([]patch, map[string]string) {
	t.Helper()
	root, patches := recorded(t)
	dirs := make(map[string]string)
	for _, p := range patches {
		real, err := moduleDir(root, p.Module, p.Version)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(real, filepath.FromSlash(p.File)))
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "mod")
		if d, ok := dirs[p.Module]; ok {
			dir = d
		}
		dirs[p.Module] = dir
		name := filepath.Join(dir, filepath.FromSlash(p.File))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return patches, dirs
}

func TestUpstreamMatchesRecorded(t *testing.T) {
	patches, dirs := upstream(t)
	if err := checkUpstream(patches, dirs); err != nil {
		t.Fatal(err)
	}
}

// TestRejectsChangedUpstream: a go.mod bump that changes a patched file
// must stop the build, naming the file and saying what to do.
func TestRejectsChangedUpstream(t *testing.T) {
	patches, dirs := upstream(t)
	p := patches[len(patches)-1]
	name := filepath.Join(dirs[p.Module], filepath.FromSlash(p.File))
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\n// a new upstream line\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	err = checkUpstream(patches, dirs)
	if err == nil {
		t.Fatalf("changed %s passed the check", p.File)
	}
	for _, want := range []string{p.Module + "@" + p.Version + "/" + p.File, "redo the patch"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestRejectsOtherVersion: go.mod requiring another version than the one
// a replacement was made for stops the build before any file is read.
func TestRejectsOtherVersion(t *testing.T) {
	root, patches := recorded(t)
	_, err := moduleDir(root, patches[0].Module, "v0.0.1")
	if err == nil || !strings.Contains(err.Error(), "redo the patch") {
		t.Fatalf("moduleDir with another version: %v, want an error saying to redo the patch", err)
	}
}

// TestWritesWorkspaceAndOverlay checks what the build reads: every
// upstream file, under its module's link, maps to an existing replacement.
func TestWritesWorkspaceAndOverlay(t *testing.T) {
	out := t.TempDir()
	if err := run(out); err != nil {
		t.Fatal(err)
	}
	work, err := os.ReadFile(filepath.Join(out, "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	overlay, err := os.ReadFile(filepath.Join(out, "overlay.json"))
	if err != nil {
		t.Fatal(err)
	}
	root, patches := recorded(t)
	for _, p := range patches {
		if !strings.Contains(string(work), "replace "+p.Module+" "+p.Version+" => ") {
			t.Errorf("go.work does not replace %s %s:\n%s", p.Module, p.Version, work)
		}
		if _, err := os.Stat(p.replacement(root)); err != nil {
			t.Error(err)
		}
		if !strings.Contains(string(overlay), p.replacement(root)) {
			t.Errorf("overlay.json does not use %s", p.replacement(root))
		}
	}
}
