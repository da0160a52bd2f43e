package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/parleychat/parley/server/certs"
)

// genCerts writes a private CA and a server certificate for the given
// hosts (the shipped compose file runs it once, into a volume that Redis,
// PostgreSQL and the nodes mount). It keeps existing files unless
// --force: a second run must not swap the CA under running servers.
func genCerts(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("parley gen-certs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "certs", "directory to write ca.crt, ca.key, server.crt and server.key into (created if missing)")
	hosts := fs.String("hosts", "", "comma-separated host names and IP addresses the server certificate is valid for (required), e.g. redis,postgres")
	force := fs.Bool("force", false, "replace existing files (a new CA: every client must get the new ca.crt)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	var names []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			names = append(names, h)
		}
	}
	if len(names) == 0 || fs.NArg() > 0 {
		return fmt.Errorf("%w: --hosts is required (and nothing else)", errUsage)
	}
	ca := filepath.Join(*dir, certs.CAFile)
	if _, err := os.Stat(ca); err == nil && !*force {
		fmt.Fprintf(stdout, "%s exists: keeping the certificates in %s (--force replaces them)\n", ca, *dir)
		return nil
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", *dir, err)
	}
	f, err := certs.Generate(*dir, names)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s, %s (for %s), and their keys %s, %s\n", f.CA, f.ServerCert, strings.Join(names, ", "), f.CAKey, f.ServerKey)
	return nil
}
