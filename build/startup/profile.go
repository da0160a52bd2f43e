package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// profileVisit makes one more visit under V8's sampling profiler and
// writes the profile to file (it opens in the Performance panel of
// DevTools). It prints the functions that took the most time on the
// page's thread, by self time and by total time (time with a function on
// the stack). app.wasm built with -s has no names: build it without -s
// for this (see the package doc).
func profileVisit(bctx context.Context, base, file string) error {
	var prof *profiler.Profile
	s, err := recordedVisit(bctx, base, "the profiler", func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, profiler.Enable, cdp.Empty{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 100}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, profiler.Start, cdp.Empty{})
		return err
	}, func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, profiler.Stop, cdp.Empty{})
		prof = res.Profile
		return err
	})
	if err != nil {
		return err
	}
	if err := writeRecording(file, "profiled repeat visit", s, prof); err != nil {
		return err
	}
	for _, lt := range s.Tasks {
		fmt.Printf("  long task at %6.0f ms: %5.0f ms\n", lt[0], lt[1])
	}
	self, total := profileTimes(prof)
	printTop("self time", self, 25)
	printTop("total time", total, 40)
	return nil
}

// recordedVisit makes one visit between start and stop, which start and
// stop a recorder (named what) through the DevTools protocol.
func recordedVisit(bctx context.Context, base, what string, start, stop func(context.Context, *chromedp.Target) error) (sample, error) {
	if err := chromedp.Do(bctx, chromedp.Func(start)); err != nil {
		return sample{}, fmt.Errorf("start %s: %w", what, err)
	}
	s, err := visit(bctx, base)
	if err != nil {
		return s, fmt.Errorf("visit under %s: %w", what, err)
	}
	if err := chromedp.Do(bctx, chromedp.Func(stop)); err != nil {
		return s, fmt.Errorf("stop %s: %w", what, err)
	}
	return s, nil
}

// writeRecording writes v to file as JSON and prints the visit's times.
func writeRecording(file, what string, s sample, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	fmt.Printf("\n%s: painted %.0f ms, interactive %.0f ms, TBT %.0f ms; written to %s\n",
		what, s.Painted, s.Interactive, s.TBT, file)
	return nil
}

// profileTimes sums the sampled time per function name: self (on top of
// the stack) and total (anywhere on it, once per sample).
func profileTimes(p *profiler.Profile) (self, total map[string]float64) {
	parent := make(map[int64]int64, len(p.Nodes))
	name := make(map[int64]string, len(p.Nodes))
	for _, n := range p.Nodes {
		fn := n.CallFrame.FunctionName
		if fn == "" {
			fn = "(anonymous " + n.CallFrame.URL + ")"
		}
		name[n.ID] = fn
		for _, c := range n.Children {
			parent[c] = n.ID
		}
	}
	self, total = make(map[string]float64), make(map[string]float64)
	for i, id := range p.Samples {
		if i+1 >= len(p.TimeDeltas) {
			break
		}
		// A sample lasts until the next one.
		ms := float64(p.TimeDeltas[i+1]) / 1000
		self[name[id]] += ms
		seen := map[string]bool{}
		for n, ok := id, true; ok; n, ok = parent[n] {
			if fn := name[n]; !seen[fn] {
				seen[fn] = true
				total[fn] += ms
			}
		}
	}
	return self, total
}

func printTop(title string, t map[string]float64, n int) {
	type entry struct {
		name string
		ms   float64
	}
	var es []entry
	for k, v := range t {
		if k != "(idle)" && k != "(root)" && k != "(program)" {
			es = append(es, entry{k, v})
		}
	}
	slices.SortFunc(es, func(a, b entry) int { return cmp.Compare(b.ms, a.ms) })
	fmt.Printf("\nby %s (ms):\n", title)
	for i, e := range es {
		if i == n {
			break
		}
		fmt.Printf("  %8.1f  %s\n", e.ms, e.name)
	}
}
