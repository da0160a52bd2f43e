//go:build !js

package term

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// printer writes chat lines to stdout and status lines to stderr. Its
// event method is the client's OnEvent.
type printer struct {
	mu     sync.Mutex // guards the fields below and serialises output; a leaf lock
	stdout io.Writer
	stderr io.Writer
	room   string
}

func (p *printer) setRoom(room string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.room = room
}

// status prints a line to stderr.
func (p *printer) status(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.stderr, "* "+format+"\n", args...)
}

func (p *printer) event(ev client.Event) {
	switch ev.Kind {
	case client.EventMessage:
		p.message(ev.Msg)
	case client.EventConnected:
		p.status("connected to %s as %s", ev.Node, ev.User)
	case client.EventDisconnected:
		if !errors.Is(ev.Err, context.Canceled) {
			p.status("disconnected (%v); reconnecting in %v", ev.Err, ev.Retry.Round(time.Millisecond))
		}
	case client.EventError:
		if ev.CID != "" {
			p.status("message not sent: %v", ev.Err)
		} else {
			p.status("error: %v", ev.Err)
		}
	case client.EventGap:
		p.status("#%s: older messages not shown", ev.Room)
	case client.EventSubscribed:
		if ev.Reset {
			p.status("#%s: the room's history was reset", ev.Room)
		}
	}
}

// message prints "15:04 alice: text" if m is in the current room.
func (p *printer) message(m *protocol.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m == nil || m.Room != p.room {
		return
	}
	at := time.UnixMilli(m.TS).Format("15:04")
	switch {
	case m.Kind == protocol.MsgEdit:
		fmt.Fprintf(p.stdout, "%s %s edited a message: %s\n", at, m.Author, m.Body)
	case m.Kind == protocol.MsgDelete:
		fmt.Fprintf(p.stdout, "%s %s deleted a message\n", at, m.Author)
	case m.Kind == protocol.MsgReact:
		fmt.Fprintf(p.stdout, "%s %s reacted %s to a message\n", at, m.Author, m.Body)
	case m.Kind == protocol.MsgUnreact:
		fmt.Fprintf(p.stdout, "%s %s took back %s from a message\n", at, m.Author, m.Body)
	case m.Deleted:
		fmt.Fprintf(p.stdout, "%s %s: (message deleted)\n", at, m.Author)
	case m.Edited > 0:
		fmt.Fprintf(p.stdout, "%s %s: %s (edited)\n", at, m.Author, m.Body)
	default:
		fmt.Fprintf(p.stdout, "%s %s: %s\n", at, m.Author, m.Body)
	}
}
