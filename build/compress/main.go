// Command compress writes precompressed copies of a build output next to it:
// FILE.br (brotli) and FILE.gz (gzip), by default at their strongest
// settings, so a node can serve app.wasm compressed without compressing at
// run time.
//
//	go run ./build/compress build/web/app.wasm
//	go run ./build/compress -quality 5 build/web/app.wasm   # faster, for tests
//
// FILE.br.sum records the raw file's SHA-256 and the brotli quality of the
// copies. When it shows the same content at the requested quality or
// better, the copies are kept as they are: q11 takes minutes on a busy
// machine, and make runs compress on every build.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/andybalholm/brotli"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("compress: ")
	quality := flag.Int("quality", brotli.BestCompression, "brotli quality, 0–11 (11: smallest, slowest)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: compress [-quality N] FILE...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *quality < brotli.BestSpeed || *quality > brotli.BestCompression {
		log.Fatalf("quality %d is outside 0–11", *quality)
	}
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	for _, name := range flag.Args() {
		if err := compressFile(name, *quality); err != nil {
			log.Fatal(err)
		}
	}
}

func compressFile(name string, quality int) error {
	raw, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read input: %w", err)
	}
	sum := sha256.Sum256(raw)
	if have, ok := upToDate(name, sum); ok && have >= quality {
		log.Printf("%s: copies at quality %d are up to date", name, have)
		return nil
	}
	start := time.Now()
	br, err := encode(raw, func(w io.Writer) io.WriteCloser {
		return brotli.NewWriterOptions(w, brotli.WriterOptions{Quality: quality, LGWin: 24})
	})
	if err != nil {
		return fmt.Errorf("brotli %s: %w", name, err)
	}
	gz, err := encode(raw, func(w io.Writer) io.WriteCloser {
		level := gzip.DefaultCompression
		if quality == brotli.BestCompression {
			level = gzip.BestCompression
		}
		zw, _ := gzip.NewWriterLevel(w, level) // the level is valid
		return zw
	})
	if err != nil {
		return fmt.Errorf("gzip %s: %w", name, err)
	}
	if err := writeAtomic(name+".br", br); err != nil {
		return err
	}
	if err := writeAtomic(name+".gz", gz); err != nil {
		return err
	}
	if err := writeAtomic(name+".br.sum", fmt.Appendf(nil, "%x %d\n", sum, quality)); err != nil {
		return err
	}
	log.Printf("%s: %d bytes raw, %d brotli (quality %d), %d gzip (%v)", name, len(raw), len(br), quality, len(gz), time.Since(start).Round(time.Millisecond))
	return nil
}

// upToDate reads FILE.br.sum and returns the quality of the copies when
// they were made from content with this sum and both still exist.
func upToDate(name string, sum [sha256.Size]byte) (quality int, ok bool) {
	b, err := os.ReadFile(name + ".br.sum")
	if err != nil {
		return 0, false
	}
	var hexSum string
	if _, err := fmt.Sscanf(string(b), "%s %d", &hexSum, &quality); err != nil || hexSum != fmt.Sprintf("%x", sum) {
		return 0, false
	}
	for _, ext := range []string{".br", ".gz"} {
		if fi, err := os.Stat(name + ext); err != nil || fi.Size() == 0 {
			return 0, false
		}
	}
	return quality, true
}

func encode(raw []byte, newWriter func(io.Writer) io.WriteCloser) ([]byte, error) {
	var buf bytes.Buffer
	w := newWriter(&buf)
	if _, err := w.Write(raw); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("flush: %w", err)
	}
	return buf.Bytes(), nil
}

// writeAtomic writes through a temporary file and a rename, so a reader never
// sees a half-written file.
func writeAtomic(name string, data []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}
