package faultlog_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/server/faultlog"
	"github.com/parleychat/parley/shared/testenv"
)

// lines is a concurrency-safe log sink that splits what was written.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSpace(l.buf.String())
	l.buf.Reset()
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestOutageLogsOnceThenSummaries(t *testing.T) {
	var out lines
	clk := testenv.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	l := faultlog.New(slog.New(slog.NewTextHandler(&out, nil)), "broker publish", time.Minute, clk.Now)
	down := errors.New("connection refused")

	l.OK()
	if got := out.take(); got != nil {
		t.Fatalf("success before any failure logged %q", got)
	}
	// 75 failures a second for 150 s: the first, then one line a minute.
	for i := 0; i < 150*75; i++ {
		l.Fail(down, "room", "general")
		if i%75 == 74 {
			clk.Advance(time.Second)
		}
	}
	got := out.take()
	if len(got) != 3 {
		t.Fatalf("150 s of failures wrote %d lines, want 3 (first + 2 summaries):\n%s", len(got), strings.Join(got, "\n"))
	}
	if !strings.Contains(got[0], `msg="broker publish failing"`) || !strings.Contains(got[0], "room=general") {
		t.Errorf("first line %q", got[0])
	}
	if !strings.Contains(got[1], `msg="broker publish still failing"`) || !strings.Contains(got[1], "failures=4500") {
		t.Errorf("first summary %q, want 4500 failures since the first line", got[1])
	}
	l.OK()
	l.OK()
	got = out.take()
	if len(got) != 1 || !strings.Contains(got[0], `msg="broker publish recovered"`) || !strings.Contains(got[0], "failures=11250") {
		t.Fatalf("recovery logged %q, want one line with failures=11250", got)
	}
	// A new outage starts over with one line at once.
	l.Fail(down)
	if got := out.take(); len(got) != 1 || !strings.Contains(got[0], `msg="broker publish failing"`) {
		t.Fatalf("second outage logged %q", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	var out lines
	l := faultlog.New(slog.New(slog.NewTextHandler(&out, nil)), "x", time.Hour, nil)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				l.Fail(errors.New("e"))
				if j%100 == 0 {
					l.OK()
				}
			}
		}()
	}
	wg.Wait()
	l.OK()
	for _, line := range out.take() {
		if !strings.Contains(line, "x failing") && !strings.Contains(line, "x recovered") {
			t.Fatalf("unexpected line %q", line)
		}
	}
}
