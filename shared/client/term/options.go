//go:build !js

package term

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/parleychat/parley/shared/protocol"
)

// PasswordEnv names the environment variable read when --password is not
// given.
const PasswordEnv = "PARLEY_PASSWORD"

type options struct {
	url, user, password, room string
	signup                    bool
}

// parseArgs reads the flags. A help request returns flag.ErrHelp after
// printing the usage.
func parseArgs(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("parley chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "http://localhost:8080", "base URL of a Parley node")
	fs.StringVar(&o.user, "user", "", "user name (required)")
	fs.StringVar(&o.password, "password", "", "password (default: $"+PasswordEnv+", else read from the first line of standard input)")
	fs.StringVar(&o.room, "room", protocol.DefaultRoom, "room to join")
	fs.BoolVar(&o.signup, "signup", false, "create the account first (signs in if it exists)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: parley chat --url URL --user NAME [--password P] [--room ROOM] [--signup]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.user == "" {
		return o, errors.New("--user is required")
	}
	if err := protocol.CheckUsername(o.user); err != nil {
		return o, fmt.Errorf("--user: %w", err)
	}
	if err := protocol.CheckRoomName(o.room); err != nil {
		return o, fmt.Errorf("--room: %w", err)
	}
	if o.password == "" {
		o.password = os.Getenv(PasswordEnv)
	}
	return o, nil
}

// promptPassword reads the password from the first input line.
func promptPassword(lines *bufio.Scanner, stderr io.Writer) (string, error) {
	fmt.Fprint(stderr, "password: ")
	if !lines.Scan() {
		if err := lines.Err(); err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return "", errors.New("read password: no input")
	}
	return lines.Text(), nil
}
