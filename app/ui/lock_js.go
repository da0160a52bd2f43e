//go:build js && wasm

package ui

import (
	"context"
	"fmt"
	"syscall/js"
)

// withTabLock runs f while this tab holds the origin-wide Web Lock name
// (navigator.locks), so that no other tab of the browser runs its f at
// the same time. It returns f's error, or why the lock was not had (ctx
// ended while another tab held it). Without Web Locks (an old browser) f
// runs unguarded.
func withTabLock(ctx context.Context, name string, f func() error) error {
	locks := js.Global().Get("navigator").Get("locks")
	if !locks.Truthy() {
		return f()
	}
	abort := js.Global().Get("AbortController").New()
	stop := context.AfterFunc(ctx, func() { abort.Call("abort") })
	defer stop()
	done := make(chan error, 1)
	// The callback runs on the JavaScript event loop and must not block:
	// it returns a promise that settles when f, on its own goroutine, is
	// done. The browser holds the lock until then.
	held := js.FuncOf(func(this js.Value, args []js.Value) any {
		exec := js.FuncOf(func(this js.Value, args []js.Value) any {
			resolve := args[0]
			go func() {
				done <- f()
				resolve.Invoke()
			}()
			return nil
		})
		defer exec.Release() // the Promise constructor calls it at once
		return js.Global().Get("Promise").New(exec)
	})
	// The request always settles (the abort ends a wait, f ends a hold),
	// and held must outlive it: wait without ctx.
	_, err := await(context.Background(), locks.Call("request", name, map[string]any{"signal": abort.Get("signal")}, held))
	held.Release()
	if err != nil {
		return fmt.Errorf("wait for the %s lock: %w", name, err)
	}
	return <-done
}
