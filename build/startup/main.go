// Command startup measures how fast Parley's app opens in headless
// Chromium, the numbers issue 11 sets targets for:
//
//	go run ./build/startup [-binary build/parley] [-runs 10]
//
// It starts a node (the given binary, fresh data folder, a free port on
// 127.0.0.1), signs up a user, posts messages to #general through the Go
// client, and then, in Chromium:
//
//   - cold: a fresh profile opens /room/general (no service worker, no
//     cache) until the app is interactive;
//   - repeat: one profile whose service worker holds the app opens
//     /room/general again and again (after two warm-up visits): when the
//     last room's messages are on screen ("painted", from a snapshot or
//     from the app) and when the app itself runs them ("interactive").
//
// Every time is read in the page from performance.now() (0 is the start of
// the navigation) by a MutationObserver installed before the page's own
// scripts, so polling from here adds nothing. "Painted" is when the frame
// that first shows a visible message row has been drawn (a task queued
// from that frame's requestAnimationFrame), not when the row entered the
// DOM. "Interactive" means the app's
// own room view is in the DOM (not a snapshot of it), with its messages and
// composer, and go-app's loader is gone. Long tasks after the start add up
// to the total blocking time (each task's time beyond 50 ms). The repeat
// visit is then shown step by step, medians of its navigation's and
// resources' timing entries (the page's response, the style sheet,
// wasm_exec.js, app.js, app.wasm), its paint entries and when the
// snapshot entered the page. A repeat visit navigates away from the app
// it opened last, so it includes that page's unload (its pagehide
// handlers) between the page's response and its parsing.
//
// Timings on a shared machine are noisy: compare medians taken in one
// session with the same flags. It prints a table; -json writes the raw
// runs too, each with its long tasks (start and duration).
//
// -trace FILE makes one more visit of each kind under Chromium's tracing,
// writes the traces to FILE-cold.json and FILE-repeat.json (DevTools'
// Performance panel opens them) and prints the page's main-thread tasks
// over 50 ms with the events inside each that took 5 ms or more: script,
// wasm compilation, forced layout (with the function that forced it).
//
// -profile FILE makes one more repeat visit under V8's sampling profiler,
// writes the profile to FILE (the Performance panel of DevTools opens it)
// and prints the visit's long tasks and the functions with the most time
// on the page's thread. For function names app.wasm needs its name
// section: build it without -ldflags=-s before linking the binary. Times
// are wall clock: on a loaded machine a sample the thread was descheduled
// in counts long, so trust functions hit by many samples.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// probe runs in every document before its scripts and records when the
// room is first shown and when the app runs it.
const probe = `(() => {
  const t = { painted_ms: 0, interactive_ms: 0, tbt_ms: 0, long_tasks: 0, tasks: [] };
  window.__parleyStartup = t;
  let framing = false;
  const check = () => {
    const now = performance.now();
    const msg = document.querySelector("#messages .msg");
    // Painted: the frame that first shows a message row (the snapshot's
    // or the app's) has been drawn.
    if (!t.painted_ms && !framing && msg && msg.checkVisibility()) {
      framing = true;
      requestAnimationFrame(() => setTimeout(() => { t.painted_ms = performance.now(); }, 0));
    }
    if (!t.snapshot_ms && document.querySelector("[data-snapshot]")) {
      t.snapshot_ms = now;
    }
    if (!t.interactive_ms && msg && !msg.closest("[data-snapshot]") &&
        document.querySelector(".layout #composer") &&
        !document.querySelector("[data-snapshot]") &&
        !document.getElementById("app-wasm-loader")) {
      t.interactive_ms = now;
    }
  };
  // phases are the steps before the first paint, from the navigation and
  // resource timing entries (ms from the start of the navigation).
  t.phases = () => {
    const p = {};
    const n = performance.getEntriesByType("navigation")[0];
    if (n) {
      p["page: service worker started"] = n.workerStart;
      p["page: request sent"] = n.requestStart;
      p["page: response started"] = n.responseStart;
      p["page: response ended"] = n.responseEnd;
      p["page: parsed (domInteractive)"] = n.domInteractive;
      p["page: deferred scripts ran (DOMContentLoaded)"] = n.domContentLoadedEventStart;
    }
    for (const r of performance.getEntriesByType("resource")) {
      const name = r.name.replace(/^.*\//, "");
      if (["parley.css", "wasm_exec.js", "app.js", "app.wasm"].includes(name)) {
        p[name + ": asked for"] = r.startTime;
        p[name + ": response ended"] = r.responseEnd;
      }
    }
    for (const e of performance.getEntriesByType("paint")) {
      p["paint: " + e.name] = e.startTime;
    }
    if (t.snapshot_ms) {
      p["snapshot in the page"] = t.snapshot_ms;
    }
    return p;
  };
  const is = WebAssembly.instantiateStreaming;
  WebAssembly.instantiateStreaming = async (...args) => {
    t.wasm_start_ms = performance.now();
    const r = await is.apply(WebAssembly, args);
    t.wasm_compiled_ms = performance.now();
    return r;
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        t.long_tasks++;
        t.tbt_ms += Math.max(0, e.duration - 50);
        t.tasks.push([e.startTime, e.duration]);
      }
    }).observe({ type: "longtask", buffered: true });
  } catch (e) {}
})();`

const password = "correct horse battery"

type sample struct {
	Painted     float64 `json:"painted_ms"`
	Interactive float64 `json:"interactive_ms"`
	TBT         float64 `json:"tbt_ms"`
	LongTasks   float64 `json:"long_tasks"`
	// WasmStart and WasmCompiled are when the page asked for app.wasm and
	// when it was compiled and instantiated.
	WasmStart    float64 `json:"wasm_start_ms"`
	WasmCompiled float64 `json:"wasm_compiled_ms"`
	// Tasks lists the long tasks: start and duration.
	Tasks [][2]float64 `json:"tasks"`
	// Phases are the steps of the page's load (the navigation's and its
	// resources' timing entries, its paint entries), in ms from the start
	// of the navigation.
	Phases map[string]float64 `json:"phases"`
}

func main() {
	binary := flag.String("binary", "build/parley", "the parley binary to run (make build)")
	runs := flag.Int("runs", 10, "visits of each kind")
	messages := flag.Int("messages", 120, "messages posted to #general before the visits")
	chromium := flag.String("chromium", "/usr/bin/chromium", "Chromium")
	stay := flag.Duration("stay", 10*time.Second, "how long the first repeat-visit profile stays on the page before the measured visits")
	jsonOut := flag.String("json", "", "also write every run to this file")
	prof := flag.String("profile", "", "after the repeat visits, profile one more and write the V8 CPU profile to this file")
	trace := flag.String("trace", "", "after the visits, trace one more of each kind and write the Chromium traces to FILE-cold.json and FILE-repeat.json")
	flag.Parse()
	if err := run(*binary, *chromium, *runs, *messages, *stay, *jsonOut, *prof, *trace); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		os.Exit(1)
	}
}

func run(binary, chromium string, runs, messages int, stay time.Duration, jsonOut, prof, trace string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	base, stop, err := startNode(ctx, binary)
	if err != nil {
		return err
	}
	defer stop()
	sess, err := seed(ctx, base, messages)
	if err != nil {
		return err
	}
	size, brSize, err := wasmSizes(ctx, base)
	if err != nil {
		return err
	}
	fmt.Printf("app.wasm: %d bytes raw, %d brotli as served\n", size, brSize)

	var cold, repeat []sample
	coldRuns := runs
	if trace != "" {
		coldRuns++
	}
	for i := range coldRuns {
		// The app hands a stored session's refresh token to the node once
		// (it moves to a cookie, and rotates): each fresh profile needs a
		// session of its own.
		fresh, err := client.NewAPI(base, nil).Login(ctx, protocol.Credentials{Username: "reader", Password: password})
		if err != nil {
			return fmt.Errorf("cold visit %d: sign in: %w", i+1, err)
		}
		if i == runs {
			fmt.Print("\ncold visit:")
			if err := visitCold(ctx, chromium, base, fresh, func(bctx context.Context) error {
				return traceVisit(bctx, base, trace+"-cold.json")
			}); err != nil {
				return fmt.Errorf("traced cold visit: %w", err)
			}
			break
		}
		err = visitCold(ctx, chromium, base, fresh, func(bctx context.Context) error {
			s, err := visit(bctx, base)
			cold = append(cold, s)
			return err
		})
		if err != nil {
			return fmt.Errorf("cold visit %d: %w", i+1, err)
		}
	}
	repeat, err = visitRepeat(ctx, chromium, base, sess, runs, stay, prof, trace)
	if err != nil {
		return err
	}
	fmt.Printf("\n%-48s %8s %8s %8s  (ms, %d runs each)\n", "", "median", "min", "max", runs)
	row := func(name string, ss []sample, f func(sample) float64) {
		if len(ss) == 0 {
			return
		}
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		fmt.Printf("%-48s %8.0f %8.0f %8.0f\n", name, median(v), v[0], v[len(v)-1])
	}
	row("cold: room painted", cold, func(s sample) float64 { return s.Painted })
	row("cold: interactive", cold, func(s sample) float64 { return s.Interactive })
	row("cold: total blocking time", cold, func(s sample) float64 { return s.TBT })
	row("repeat: room painted", repeat, func(s sample) float64 { return s.Painted })
	row("repeat: interactive", repeat, func(s sample) float64 { return s.Interactive })
	row("repeat: total blocking time", repeat, func(s sample) float64 { return s.TBT })
	row("repeat: app.wasm requested", repeat, func(s sample) float64 { return s.WasmStart })
	row("repeat: app.wasm compiled", repeat, func(s sample) float64 { return s.WasmCompiled })
	printPhases(repeat, row)
	if jsonOut != "" {
		b, err := json.MarshalIndent(map[string]any{
			"wasm_bytes": size, "wasm_brotli_bytes": brSize, "cold": cold, "repeat": repeat,
		}, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(jsonOut, b, 0o644)
	}
	return nil
}

// printPhases prints a row for each phase of the repeat visits, in the
// order of their medians.
func printPhases(repeat []sample, row func(string, []sample, func(sample) float64)) {
	if len(repeat) == 0 {
		return
	}
	var names []string
	for name := range repeat[0].Phases {
		names = append(names, name)
	}
	med := func(name string) float64 {
		var v []float64
		for _, s := range repeat {
			v = append(v, s.Phases[name])
		}
		slices.Sort(v)
		return median(v)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(med(a), med(b)) })
	fmt.Println("repeat visit, step by step:")
	for _, name := range names {
		row("  "+name, repeat, func(s sample) float64 { return s.Phases[name] })
	}
}

func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// startNode runs binary on a free loopback port with a fresh data folder
// and waits for /readyz.
func startNode(ctx context.Context, binary string) (base string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	data, err := os.MkdirTemp("", "parley-startup-")
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(binary, "--addr", addr, "--data", filepath.Join(data, "data"), "--log-level", "warn",
		// One sign-in per cold visit, from one address.
		"--auth-rate", "100", "--auth-burst", "100")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(data)
		return "", nil, fmt.Errorf("start %s: %w", binary, err)
	}
	stop = func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(data)
	}
	base = "http://" + addr
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stop()
			return "", nil, fmt.Errorf("node at %s never became ready", base)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// seed signs up "reader" and posts n messages to #general as "writer".
func seed(ctx context.Context, base string, n int) (protocol.Session, error) {
	api := client.NewAPI(base, nil)
	reader, err := api.Signup(ctx, protocol.Credentials{Username: "reader", Password: password})
	if err != nil {
		return reader, fmt.Errorf("sign up: %w", err)
	}
	writer, err := api.Signup(ctx, protocol.Credentials{Username: "writer", Password: password})
	if err != nil {
		return reader, fmt.Errorf("sign up: %w", err)
	}
	ws, err := client.WebSocketURL(base)
	if err != nil {
		return reader, err
	}
	cl := client.New(client.Config{
		URL: ws, Origin: base,
		Token: func(context.Context) (string, error) { return writer.AccessToken, nil },
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cl.Run(runCtx) }()
	defer func() {
		stop()
		<-done
	}()
	for i := range n {
		body := fmt.Sprintf("Message %d: the quick brown fox jumps over the lazy dog.", i+1)
		if _, err := cl.Send(protocol.DefaultRoom, body); err != nil {
			return reader, fmt.Errorf("send: %w", err)
		}
	}
	for len(cl.Pending()) > 0 {
		if ctx.Err() != nil {
			return reader, ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return reader, nil
}

// wasmSizes returns the raw size of app.wasm and the size served to a
// browser that accepts brotli.
func wasmSizes(ctx context.Context, base string) (raw, br int64, err error) {
	get := func(enc string) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/web/app.wasm", nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Accept-Encoding", enc)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return 0, fmt.Errorf("get app.wasm: %w", err)
		}
		defer resp.Body.Close()
		return io.Copy(io.Discard, resp.Body)
	}
	if raw, err = get("identity"); err != nil {
		return 0, 0, err
	}
	br, err = get("br")
	return raw, br, err
}

// browser starts Chromium with the flags the e2e tests use and a profile
// in dir.
func browser(ctx context.Context, chromium, dir string) (context.Context, func(), error) {
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 800),
	)
	bctx, cancel := chromedp.NewContext(alloc)
	err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probe})
		return err
	}))
	if err != nil {
		cancel()
		cancelAlloc()
		return nil, nil, fmt.Errorf("start Chromium: %w", err)
	}
	return bctx, func() { cancel(); cancelAlloc() }, nil
}

// signIn stores sess in the origin's localStorage, as the app does.
func signIn(ctx context.Context, base string, sess protocol.Session) error {
	b, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	q, _ := json.Marshal(string(b))
	return chromedp.Do(ctx,
		chromedp.Navigate(base+"/manifest.webmanifest"),
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem("parley.session", `+string(q)+`)`),
	)
}

// visit opens the room and waits until the app is interactive.
func visit(ctx context.Context, base string) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/room/general")); err != nil {
		return sample{}, err
	}
	for {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[sample](`window.__parleyStartup || {}`))
		if err == nil && s.Interactive > 0 && s.Painted > 0 {
			// Let the long tasks of the first render be counted.
			time.Sleep(300 * time.Millisecond)
			return chromedp.Run(ctx, chromedp.Evaluate[sample](`({...window.__parleyStartup, phases: window.__parleyStartup.phases()})`))
		}
		if ctx.Err() != nil {
			return sample{}, fmt.Errorf("the app never became interactive (probe %+v, error %v)", s, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// visitCold runs do (a visit) in a fresh profile signed in with sess.
func visitCold(ctx context.Context, chromium, base string, sess protocol.Session, do func(context.Context) error) error {
	dir, err := os.MkdirTemp("", "parley-startup-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bctx, stop, err := browser(ctx, chromium, dir)
	if err != nil {
		return err
	}
	defer stop()
	if err := signIn(bctx, base, sess); err != nil {
		return err
	}
	return do(bctx)
}

func visitRepeat(ctx context.Context, chromium, base string, sess protocol.Session, runs int, stay time.Duration, prof, trace string) ([]sample, error) {
	dir, err := os.MkdirTemp("", "parley-startup-profile-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bctx, stop, err := browser(ctx, chromium, dir)
	if err != nil {
		return nil, err
	}
	defer stop()
	if err := signIn(bctx, base, sess); err != nil {
		return nil, err
	}
	if _, err := visit(bctx, base); err != nil {
		return nil, err
	}
	// Wait for the service worker to hold the app.
	for {
		ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](
			`(async () => !!navigator.serviceWorker.controller && !!(await caches.match("/web/app.wasm")))()`,
			chromedp.EvalAwaitPromise))
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Stay a while, as a reader would: V8 writes its code cache only once
	// enough of the module has been optimized.
	time.Sleep(stay)
	var out []sample
	for i := range runs + 2 {
		s, err := visit(bctx, base)
		if err != nil {
			return nil, fmt.Errorf("repeat visit %d: %w", i+1, err)
		}
		if i >= 2 { // two warm-up visits
			out = append(out, s)
		}
	}
	if prof != "" {
		if err := profileVisit(bctx, base, prof); err != nil {
			return nil, err
		}
	}
	if trace != "" {
		fmt.Print("\nrepeat visit:")
		if err := traceVisit(bctx, base, trace+"-repeat.json"); err != nil {
			return nil, err
		}
	}
	return out, nil
}
