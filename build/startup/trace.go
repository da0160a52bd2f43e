package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// traceCategories are what DevTools' Performance panel records, without
// screenshots and JavaScript samples.
var traceCategories = []string{
	"toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline",
	"v8", "v8.execute", "v8.wasm", "disabled-by-default-v8.wasm.detailed", "blink", "loading", "blink.user_timing",
}

// traceEvent is the part of a Chromium trace event the summary reads.
type traceEvent struct {
	Name string          `json:"name"`
	Ph   string          `json:"ph"`
	Ts   float64         `json:"ts"`
	Dur  float64         `json:"dur"`
	Pid  int             `json:"pid"`
	Tid  int             `json:"tid"`
	Args json.RawMessage `json:"args"`
}

// traceVisit makes one more visit under Chromium's tracing, writes the
// trace to file (the Performance panel of DevTools and Perfetto open it)
// and prints the long tasks of the page's main thread with the events
// that took most of each.
func traceVisit(bctx context.Context, base, file string) error {
	var (
		mu     sync.Mutex
		events []json.RawMessage
		done   = make(chan struct{})
	)
	err := chromedp.Listen(bctx, func(ev any) {
		switch e := ev.(type) {
		case *tracing.EventDataCollected:
			mu.Lock()
			for _, v := range e.Value {
				events = append(events, json.RawMessage(v))
			}
			mu.Unlock()
		case *tracing.EventTracingComplete:
			close(done)
		}
	})
	if err != nil {
		return fmt.Errorf("listen for trace events: %w", err)
	}
	s, err := recordedVisit(bctx, base, "tracing", func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, tracing.Start, tracing.StartParams{
			TransferMode: tracing.StartTransferModeReportEvents,
			TraceConfig:  &tracing.TraceConfig{IncludedCategories: traceCategories},
		})
		return err
	}, func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, tracing.End, cdp.Empty{})
		return err
	})
	if err != nil {
		return err
	}
	select {
	case <-done:
	case <-bctx.Done():
		return bctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	if err := writeRecording(file, "traced visit", s, map[string]any{"traceEvents": events}); err != nil {
		return err
	}
	return summarizeTrace(events)
}

// summarizeTrace prints the main thread's tasks over 50 ms, from the
// start of the navigation, each with the events inside it that took 5 ms
// or more (indented by depth).
func summarizeTrace(raw []json.RawMessage) error {
	var evs []traceEvent
	for _, r := range raw {
		var e traceEvent
		if err := json.Unmarshal(r, &e); err != nil {
			return fmt.Errorf("read trace event: %w", err)
		}
		evs = append(evs, e)
	}
	// The page's main thread: the renderer main thread with the most
	// task time (the service worker runs on another thread).
	type thread struct{ pid, tid int }
	mains := map[thread]bool{}
	busy := map[thread]float64{}
	var start float64
	for _, e := range evs {
		if e.Ph == "M" && e.Name == "thread_name" && strings.Contains(string(e.Args), "CrRendererMain") {
			mains[thread{e.Pid, e.Tid}] = true
		}
		if e.Name == "navigationStart" && start == 0 {
			start = e.Ts
		}
	}
	for _, e := range evs {
		if th := (thread{e.Pid, e.Tid}); mains[th] && e.Ph == "X" && e.Name == "RunTask" {
			busy[th] += e.Dur
		}
	}
	var main thread
	for th, d := range busy {
		if d > busy[main] {
			main = th
		}
	}
	var on []traceEvent
	for _, e := range evs {
		if (thread{e.Pid, e.Tid}) == main && e.Ph == "X" && e.Ts >= start {
			on = append(on, e)
		}
	}
	slices.SortFunc(on, func(a, b traceEvent) int {
		return cmp.Or(cmp.Compare(a.Ts, b.Ts), cmp.Compare(b.Dur, a.Dur))
	})
	for i, e := range on {
		if e.Name != "RunTask" || e.Dur < 50_000 {
			continue
		}
		fmt.Printf("  task at %6.0f ms: %5.0f ms\n", (e.Ts-start)/1000, e.Dur/1000)
		var stack []float64 // ends of the enclosing events
		for _, c := range on[i+1:] {
			if c.Ts >= e.Ts+e.Dur {
				break
			}
			for len(stack) > 0 && c.Ts >= stack[len(stack)-1] {
				stack = stack[:len(stack)-1]
			}
			stack = append(stack, c.Ts+c.Dur)
			if c.Dur >= 5_000 && len(stack) <= 6 {
				fmt.Printf("  %s%5.0f ms %s %s\n", strings.Repeat("  ", len(stack)), c.Dur/1000, c.Name, eventDetail(c.Args))
			}
		}
	}
	return nil
}

// eventDetail is what an event's arguments say of its source: a
// function and its script, or a URL.
func eventDetail(args json.RawMessage) string {
	var a struct {
		Data struct {
			FunctionName string `json:"functionName"`
			URL          string `json:"url"`
			LineNumber   int    `json:"lineNumber"`
			Type         string `json:"type"`
		} `json:"data"`
		BeginData struct {
			StackTrace []struct {
				FunctionName string `json:"functionName"`
				LineNumber   int    `json:"lineNumber"`
			} `json:"stackTrace"`
		} `json:"beginData"`
	}
	if json.Unmarshal(args, &a) != nil {
		return ""
	}
	var parts []string
	if d := a.Data; d.FunctionName != "" || d.URL != "" || d.Type != "" {
		parts = append(parts, strings.TrimSpace(fmt.Sprintf("%s %s %s", d.Type, d.FunctionName, lastPart(d.URL))))
		if d.LineNumber > 0 {
			parts = append(parts, fmt.Sprintf(":%d", d.LineNumber))
		}
	}
	if st := a.BeginData.StackTrace; len(st) > 0 {
		parts = append(parts, fmt.Sprintf("(forced by %s:%d)", st[0].FunctionName, st[0].LineNumber))
	}
	return strings.Join(parts, "")
}

func lastPart(url string) string {
	if i := strings.LastIndex(url, "/"); i >= 0 {
		return url[i+1:]
	}
	return url
}
