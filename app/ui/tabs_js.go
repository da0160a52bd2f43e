//go:build js && wasm

package ui

import (
	"encoding/json"
	"syscall/js"
)

// tabChannelName names the BroadcastChannel of Parley's tabs.
const tabChannelName = "parley.tabs"

// tabChannel is the BroadcastChannel the tabs of a browser use to sign in
// and out together. A tab does not receive its own messages.
type tabChannel struct {
	ch     js.Value
	listen js.Func
}

// openTabChannel opens the channel; receive gets every message from the
// other tabs, on its own goroutine. Without BroadcastChannel it returns
// nil, and each tab learns of a sign-out at its next refresh.
func openTabChannel(receive func(tabMessage)) *tabChannel {
	bc := js.Global().Get("BroadcastChannel")
	if bc.Type() != js.TypeFunction {
		return nil
	}
	c := &tabChannel{ch: bc.New(tabChannelName)}
	c.listen = js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) == 0 || args[0].Get("data").Type() != js.TypeString {
			return nil
		}
		var m tabMessage
		if err := json.Unmarshal([]byte(args[0].Get("data").String()), &m); err != nil {
			return nil // another version's message, or not ours
		}
		go receive(m) // the event loop must not wait on the app's locks
		return nil
	})
	c.ch.Call("addEventListener", "message", c.listen)
	return c
}

// post sends m to the other tabs.
func (c *tabChannel) post(m tabMessage) {
	if c == nil {
		return
	}
	b, err := json.Marshal(m)
	if err != nil {
		return // a tabMessage always marshals
	}
	c.ch.Call("postMessage", string(b))
}
