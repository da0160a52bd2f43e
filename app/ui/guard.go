package ui

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// go-app v10 runs Go event handlers asynchronously, after the browser has
// finished dispatching the event, so Event.PreventDefault in a handler is too
// late: a form would submit (a GET that puts the password in the URL) and
// Enter would add a line to the composer after it was cleared. These
// listeners run synchronously and stop those defaults; the Go handlers still
// do the work.

// guardListeners keeps the installed listeners alive for the page's life.
var guardListeners []app.Func

// installGuards adds the synchronous listeners to the document once.
func installGuards() {
	doc := app.Window().Get("document")
	submit := app.FuncOf(func(this app.Value, args []app.Value) any {
		if len(args) > 0 {
			// The app never wants a native form submission.
			args[0].Call("preventDefault")
		}
		return nil
	})
	keydown := app.FuncOf(func(this app.Value, args []app.Value) any {
		if len(args) == 0 {
			return nil
		}
		e := args[0]
		t := e.Get("target")
		if id := t.Get("id").String(); (id == composerID || id == editInputID) && isSendKey(e) {
			e.Call("preventDefault")
		}
		if t.Get("classList").Truthy() && t.Get("classList").Call("contains", "pick").Bool() && isPickerKey(e.Get("key").String()) {
			e.Call("preventDefault")
		}
		return nil
	})
	// The network is back: connect now rather than at the end of the
	// backoff. Offline and online also change the banner's words.
	online := app.FuncOf(func(this app.Value, args []app.Value) any {
		if theApp != nil {
			go theApp.RetryNow()
		}
		return nil
	})
	offline := app.FuncOf(func(this app.Value, args []app.Value) any {
		if theApp != nil {
			go theApp.notify()
		}
		return nil
	})
	doc.Call("addEventListener", "submit", submit, true)
	doc.Call("addEventListener", "keydown", keydown, true)
	app.Window().Call("addEventListener", "online", online)
	app.Window().Call("addEventListener", "offline", offline)
	guardListeners = append(guardListeners, submit, keydown, online, offline)
}

// isSendKey reports whether a keydown event is a plain Enter: send, rather
// than Shift+Enter (new line) or Enter that ends an IME composition.
func isSendKey(e app.Value) bool {
	return e.Get("key").String() == "Enter" && !e.Get("shiftKey").Bool() && !e.Get("isComposing").Bool()
}
