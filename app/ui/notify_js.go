//go:build js && wasm

package ui

import (
	"context"
	"fmt"
	"syscall/js"
)

// notificationPermission is Notification.permission: "default",
// "granted", "denied", or "unsupported" without the API.
func notificationPermission() string {
	n := js.Global().Get("Notification")
	if n.Type() != js.TypeFunction {
		return "unsupported"
	}
	return n.Get("permission").String()
}

// requestNotificationPermission asks the browser and returns its answer.
func requestNotificationPermission(ctx context.Context) (string, error) {
	n := js.Global().Get("Notification")
	if n.Type() != js.TypeFunction {
		return "unsupported", nil
	}
	v, err := await(ctx, n.Call("requestPermission"))
	if err != nil {
		return "", fmt.Errorf("ask for notification permission: %w", err)
	}
	return v.String(), nil
}

// pageHidden reports whether the tab is in the background (or minimized).
func pageHidden() bool {
	return js.Global().Get("document").Get("visibilityState").String() == "hidden"
}

// showNotification shows a system notification through parleyNotify (the
// page script, app/boot.go); a click on it opens path in this tab.
func showNotification(title, body, tag, path string) {
	if f := js.Global().Get("parleyNotify"); f.Type() == js.TypeFunction {
		f.Invoke(title, body, tag, path)
	}
}
