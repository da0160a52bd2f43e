//go:build !js

package term

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

const (
	// lastPage is how many earlier messages joining a room shows.
	lastPage = 50
	// drainTimeout bounds the wait for acks at the end of the input.
	drainTimeout = 10 * time.Second
	// requestTimeout bounds joining a room.
	requestTimeout = 15 * time.Second
)

// Run runs `parley chat` with args (the flags, without the subcommand
// name) until /quit, the end of stdin (after the outbox drained), ctx's
// end, or a refusal of the credentials. It returns flag.ErrHelp after
// printing the usage for -h.
//
// A line being read from stdin when Run returns is not waited for: the
// goroutine reading stdin ends at the next line or at the end of input.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	opts, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	lines := bufio.NewScanner(stdin)
	lines.Buffer(make([]byte, 4096), 4*protocol.MaxBodyBytes)
	if opts.password == "" {
		if opts.password, err = promptPassword(lines, stderr); err != nil {
			return err
		}
	}
	wsURL, err := client.WebSocketURL(opts.url)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	api := client.NewAPI(opts.url, nil)
	sess := &session{api: api, cred: protocol.Credentials{Username: opts.user, Password: opts.password}}
	if err := sess.signIn(ctx, opts.signup); err != nil {
		return err
	}
	out := &printer{stdout: stdout, stderr: stderr}
	ch := &chat{api: api, sess: sess, out: out, room: opts.room, want: opts.room, connected: make(chan struct{}, 1)}
	ch.c = client.New(client.Config{URL: wsURL, Token: sess.Token, OnEvent: ch.event, Origin: origin(opts.url)})
	return ch.run(ctx, lines)
}

// origin is the Origin a browser on baseURL would send.
func origin(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// chat is one running terminal session. Its fields are used by the loop
// goroutine only.
type chat struct {
	api  *client.API
	sess *session
	c    *client.Client
	out  *printer
	// room is where lines are sent; want is a room to join once connected
	// (input waits meanwhile, so no line goes to a room not yet joined).
	room, want string
	// connected is signalled by every EventConnected.
	connected chan struct{}
}

// event is the client's OnEvent: it prints and wakes the loop on connect.
func (ch *chat) event(ev client.Event) {
	ch.out.event(ev)
	if ev.Kind == client.EventConnected {
		select {
		case ch.connected <- struct{}{}:
		default:
		}
	}
}

// run runs the client and the input loop, and stops both.
func (ch *chat) run(ctx context.Context, lines *bufio.Scanner) error {
	ctx, cancel := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- ch.c.Run(ctx) }()
	input := make(chan string)
	go readLines(lines, input, ctx.Done())

	err := ch.loop(ctx, input, runDone)
	cancel()
	if runErr := <-runDone; err == nil && !errors.Is(runErr, context.Canceled) {
		err = runErr
	}
	return err
}

// readLines sends each input line on input until the end of input, /quit,
// or done; it closes input when it stops.
func readLines(lines *bufio.Scanner, input chan<- string, done <-chan struct{}) {
	defer close(input)
	for lines.Scan() {
		line := strings.TrimRight(lines.Text(), "\r")
		select {
		case input <- line:
		case <-done:
			return
		}
		if strings.TrimSpace(line) == "/quit" {
			return
		}
	}
}

// loop handles input lines and joins until the session should end. When
// Run ends by itself (refused credentials) its error is put back for run
// to return.
func (ch *chat) loop(ctx context.Context, input <-chan string, runDone chan error) error {
	for {
		in := input
		if ch.want != "" {
			in = nil // hold input until the room is joined
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-runDone:
			runDone <- err
			return nil
		case <-ch.connected:
			ch.joinWanted(ctx)
		case line, ok := <-in:
			if !ok {
				ch.drain(ctx, runDone)
				return nil
			}
			if quit := ch.command(ctx, line); quit {
				return nil
			}
		}
	}
}

// command handles one input line; quit reports /quit.
func (ch *chat) command(ctx context.Context, line string) (quit bool) {
	text := strings.TrimSpace(line)
	switch {
	case text == "":
	case text == "/quit":
		return true
	case strings.HasPrefix(text, "/join "):
		room := strings.TrimSpace(strings.TrimPrefix(text, "/join "))
		if err := protocol.CheckRoomName(room); err != nil {
			ch.out.status("join: %v", err)
			return false
		}
		ch.want = room
		ch.joinWanted(ctx)
	case strings.HasPrefix(text, "/"):
		ch.out.status("commands: /join ROOM, /quit, /help")
	default:
		if _, err := ch.c.Send(ch.room, line); err != nil {
			ch.out.status("%v", err)
		}
	}
	return false
}

// joinWanted joins ch.want if there is one. Without a connection it is
// left for the next EventConnected.
func (ch *chat) joinWanted(ctx context.Context) {
	if ch.want == "" {
		return
	}
	err := ch.join(ctx, ch.want)
	if errors.Is(err, client.ErrNotConnected) {
		return
	}
	if err != nil {
		ch.out.status("join #%s: %v", ch.want, err)
	}
	ch.want = ""
}

// join shows room's last page, then follows it from the page's last offset
// (the node replays anything newer, so nothing falls in between), and
// leaves the previous room. A room that does not exist is created.
func (ch *chat) join(ctx context.Context, room string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	page, _, err := ch.c.History(ctx, room, 0, lastPage)
	var se *client.ServerError
	if errors.As(err, &se) && se.Code == protocol.ErrNotFound {
		page, err = nil, ch.create(ctx, room)
	}
	if err != nil {
		return err
	}
	if room != ch.room {
		ch.c.Unsubscribe(ch.room)
	}
	ch.room = room
	ch.out.setRoom(room)
	ch.out.status("#%s", room)
	var since int64
	for i := range page {
		ch.out.message(&page[i])
		since = page[i].Offset
	}
	return ch.c.Subscribe(room, since)
}

// create creates room; one that exists by now is fine.
func (ch *chat) create(ctx context.Context, room string) error {
	tok, err := ch.sess.Token(ctx)
	if err != nil {
		return err
	}
	_, err = ch.api.CreateRoom(ctx, tok, room)
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Code == protocol.ErrConflict {
		return nil
	}
	return err
}

// drain waits until every sent message is acknowledged, Run ends, or
// drainTimeout passes.
func (ch *chat) drain(ctx context.Context, runDone chan error) {
	deadline := time.NewTimer(drainTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for len(ch.c.Pending()) > 0 {
		select {
		case <-ctx.Done():
			return
		case err := <-runDone:
			runDone <- err
			return
		case <-deadline.C:
			ch.out.status("%d messages not acknowledged", len(ch.c.Pending()))
			return
		case <-tick.C:
		}
	}
}
