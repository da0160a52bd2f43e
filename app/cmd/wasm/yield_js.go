package main

import "syscall/js"

// yieldToBrowser gives the page's thread back to the browser for a
// moment. A Go program in the browser runs until every goroutine waits,
// and its first run (runtime and package initializers, the app-level
// client, go-app's first mount, with V8 compiling each function on its
// first call) was one task of 0.8–2.3 s: input and frames waited for all
// of it, and all of it beyond 50 ms counted as blocking time. Waiting for
// a message posted to itself returns the program to the browser's event
// loop; it resumes in a task of its own. A message, not a timer: a hidden
// page runs timers at most once a second.
func yieldToBrowser() {
	done := make(chan struct{})
	ch := js.Global().Get("MessageChannel").New()
	port := ch.Get("port1")
	var f js.Func
	f = js.FuncOf(func(js.Value, []js.Value) any {
		port.Call("close")
		f.Release()
		close(done)
		return nil
	})
	port.Set("onmessage", f)
	ch.Get("port2").Call("postMessage", nil)
	<-done
}

// started tells the page script the app has started (parleyAppStarted in
// app/boot.go: it keeps app.wasm for the service worker and registers
// it), after a task for the browser to paint the first page. The page
// script used to call it when go.run returned, which was after the first
// mount while the first run was one task; go.run now returns at the
// first yieldToBrowser.
func started() {
	yieldToBrowser()
	if f := js.Global().Get("parleyAppStarted"); f.Type() == js.TypeFunction {
		f.Invoke()
	}
}
