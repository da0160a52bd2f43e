// Command wasmsize reports what app.wasm costs a browser and what in it
// weighs most:
//
//	go run ./build/wasmsize [-quality 11] [-top 25] [-pkg ./app/cmd/wasm] build/web/app.wasm
//
// It prints the module's raw, gzip (best) and brotli sizes, its sections,
// and the heaviest Go packages by the size of their functions' code. The
// brotli size is that of FILE.br when it decodes to FILE (make wasm writes
// it, at the quality FILE.br.sum records); otherwise the module is
// compressed at -quality here.
//
// go tool nm does not read WebAssembly, so the package table comes from a
// copy of -pkg built here without -s (the shipped module drops its name
// section): every function body in the code section is counted under the
// package its name starts with. Data (strings, type descriptors, tables)
// is shown as one section; it has no names.
package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/andybalholm/brotli"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("wasmsize: ")
	quality := flag.Int("quality", brotli.BestCompression, "brotli quality when FILE.br is missing or stale")
	top := flag.Int("top", 25, "packages to list")
	pkg := flag.String("pkg", "./app/cmd/wasm", "the main package FILE was built from (built again here with its names); empty skips the package table")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: wasmsize [flags] FILE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *pkg, *quality, *top); err != nil {
		log.Fatal(err)
	}
}

func run(name, pkg string, quality, top int) error {
	raw, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read module: %w", err)
	}
	br, brQuality, err := brotliSize(name, raw, quality)
	if err != nil {
		return err
	}
	gz, err := gzipSize(raw)
	if err != nil {
		return err
	}
	fmt.Printf("%s\n  raw    %10d bytes\n  gzip   %10d bytes (best)\n  brotli %10d bytes (quality %d)\n", name, len(raw), gz, br, brQuality)
	mod, err := parse(raw)
	if err != nil {
		return fmt.Errorf("parse %s: %w", name, err)
	}
	fmt.Println("\nsections")
	for _, s := range mod.sections {
		fmt.Printf("  %-10s %10d bytes\n", s.name, s.size)
	}
	if pkg == "" {
		return nil
	}
	named, err := buildNamed(pkg)
	if err != nil {
		return err
	}
	deps, err := goList(pkg)
	if err != nil {
		return err
	}
	m, err := parse(named)
	if err != nil {
		return fmt.Errorf("parse the named build of %s: %w", pkg, err)
	}
	if len(m.names) == 0 {
		return errors.New("the named build has no name section")
	}
	printPackages(m, deps, top)
	return nil
}

// brotliSize returns the size of FILE.br when it decodes to raw, with the
// quality FILE.br.sum names, or else compresses raw at quality.
func brotliSize(name string, raw []byte, quality int) (int, int, error) {
	if enc, err := os.ReadFile(name + ".br"); err == nil {
		dec, err := io.ReadAll(brotli.NewReader(bytes.NewReader(enc)))
		if err == nil && bytes.Equal(dec, raw) {
			q := -1
			if b, err := os.ReadFile(name + ".br.sum"); err == nil {
				var sum string
				if _, err := fmt.Sscanf(string(b), "%s %d", &sum, &q); err != nil || sum != fmt.Sprintf("%x", sha256.Sum256(raw)) {
					q = -1
				}
			}
			if q >= 0 {
				return len(enc), q, nil
			}
		}
	}
	var buf bytes.Buffer
	w := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: quality, LGWin: 24})
	if _, err := w.Write(raw); err != nil {
		return 0, 0, fmt.Errorf("brotli: %w", err)
	}
	if err := w.Close(); err != nil {
		return 0, 0, fmt.Errorf("brotli: %w", err)
	}
	return buf.Len(), quality, nil
}

func gzipSize(raw []byte) (int, error) {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	if _, err := w.Write(raw); err != nil {
		return 0, fmt.Errorf("gzip: %w", err)
	}
	if err := w.Close(); err != nil {
		return 0, fmt.Errorf("gzip: %w", err)
	}
	return buf.Len(), nil
}

// buildNamed builds pkg for js/wasm as make wasm does (with
// build/wasmpatch's copies), but keeping the name section, and returns the
// module.
func buildNamed(pkg string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "wasmsize-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "named.wasm")
	if err := browserGo(dir, "build", "-trimpath", "-o", out, pkg).Run(); err != nil {
		return nil, fmt.Errorf("build %s with names: %w", pkg, err)
	}
	return os.ReadFile(out)
}

// browserGo returns the go command with args for js/wasm as make wasm
// runs it: in the workspace and with the overlay build/wasmpatch writes,
// into dir, before.
func browserGo(dir string, args ...string) *exec.Cmd {
	patch := filepath.Join(dir, "wasmpatch")
	prep := exec.CommandContext(context.Background(), "go", "run", "github.com/parleychat/parley/build/wasmpatch", "-o", patch)
	prep.Stderr = os.Stderr
	cmd := exec.CommandContext(context.Background(), "go", append([]string{args[0], "-overlay", filepath.Join(patch, "overlay.json")}, args[1:]...)...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOWORK="+filepath.Join(patch, "go.work"))
	cmd.Stderr = os.Stderr
	if err := prep.Run(); err != nil {
		cmd.Err = fmt.Errorf("build/wasmpatch: %w", err)
	}
	return cmd
}

// printPackages sums the code of every named function by package and
// prints the heaviest.
func printPackages(m *module, deps []string, top int) {
	sizes := make(map[string]int)
	total := 0
	pkgs := newPackages(deps)
	for i, n := range m.bodies {
		name, ok := m.names[m.imported+uint32(i)]
		if !ok {
			name = "?"
		}
		sizes[pkgs.of(name)] += n
		total += n
	}
	type row struct {
		pkg  string
		size int
	}
	rows := make([]row, 0, len(sizes))
	for p, n := range sizes {
		rows = append(rows, row{p, n})
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(b.size, a.size), strings.Compare(a.pkg, b.pkg))
	})
	fmt.Printf("\nheaviest packages by code (%d bytes in %d functions, %d packages)\n", total, len(m.bodies), len(rows))
	for i, r := range rows {
		if i == top {
			break
		}
		fmt.Printf("  %10d  %5.1f%%  %s\n", r.size, 100*float64(r.size)/float64(total), r.pkg)
	}
}

// goList returns the import paths pkg depends on in js/wasm, itself
// included, as make wasm builds it.
func goList(pkg string) ([]string, error) {
	dir, err := os.MkdirTemp("", "wasmsize-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out, err := browserGo(dir, "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		return nil, fmt.Errorf("list the packages of %s: %w", pkg, err)
	}
	return strings.Fields(string(out)), nil
}

// packages finds the package of a name in the name section. The Go linker
// writes names with every byte but letters, digits, '_' and '.' replaced
// by '_' ("github.com/a-b/c.(*T).M" is "github.com_a_b_c.__T_.M"), so a
// name is matched against the import paths written the same way, the
// longest first.
type packages struct {
	// bySanitized maps sanitized import paths to import paths.
	bySanitized map[string]string
	// sanitized holds the keys of bySanitized, longest first.
	sanitized []string
}

func newPackages(importPaths []string) *packages {
	p := &packages{bySanitized: make(map[string]string)}
	for _, ip := range importPaths {
		s := sanitize(ip)
		p.bySanitized[s] = ip
		p.sanitized = append(p.sanitized, s)
	}
	slices.SortFunc(p.sanitized, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	return p
}

// of returns the import path sym belongs to. Names of no listed package
// (linker-made ones such as "type:.eq.T", sanitized "type_.eq.T") are
// grouped by what precedes their first '.'.
func (p *packages) of(sym string) string {
	for _, s := range p.sanitized {
		if strings.HasPrefix(sym, s) && strings.HasPrefix(sym[len(s):], ".") {
			return p.bySanitized[s]
		}
	}
	if before, _, ok := strings.Cut(sym, "."); ok {
		return before
	}
	return sym
}

// sanitize writes an import path as the Go linker writes names into the
// name section of a WebAssembly module.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
