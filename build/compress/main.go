// Command compress writes precompressed copies of a build output next to it:
// FILE.br (brotli) and FILE.gz (gzip), by default at their strongest
// settings, so a node can serve app.wasm compressed without compressing at
// run time.
//
//	go run ./build/compress build/web/app.wasm
//	go run ./build/compress -quality 5 build/web/app.wasm   # faster, for development
package main

import (
	"bytes"
	"compress/gzip"
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
	start := time.Now()
	br, err := encode(raw, func(w io.Writer) io.WriteCloser {
		return brotli.NewWriterOptions(w, brotli.WriterOptions{Quality: quality, LGWin: 24})
	})
	if err != nil {
		return fmt.Errorf("brotli %s: %w", name, err)
	}
	gz, err := encode(raw, func(w io.Writer) io.WriteCloser {
		zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression) // the level is valid
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
	log.Printf("%s: %d bytes raw, %d brotli, %d gzip (%v)", name, len(raw), len(br), len(gz), time.Since(start).Round(time.Millisecond))
	return nil
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
