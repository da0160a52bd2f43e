//go:build js && wasm

package ui

import (
	"context"
	"fmt"
	"syscall/js"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// notificationPermission is Notification.permission: "default",
// "granted", "denied", or "unsupported" without the API. Reading it is a
// synchronous call into the browser process (hundreds of milliseconds on
// the page's thread in a profile of the start-up under load): the views
// use the permission watchNotificationPermission reports instead.
func notificationPermission() string {
	n := js.Global().Get("Notification")
	if n.Type() != js.TypeFunction {
		return "unsupported"
	}
	return n.Get("permission").String()
}

// notificationsSupported reports whether the browser has notifications.
func notificationsSupported() bool {
	return js.Global().Get("Notification").Type() == js.TypeFunction
}

// watchNotificationPermission reports the notification permission to set
// ("default", "granted" or "denied") soon, without blocking, and again
// whenever the user changes it in the browser's site settings, through
// the Permissions API. A browser without it has Notification.permission
// read once. set runs on a goroutine of its own; the listener lives as
// long as the page.
func watchNotificationPermission(set func(perm string)) {
	if !notificationsSupported() {
		return
	}
	var query js.Value
	err := jsTry(func() {
		perms := js.Global().Get("navigator").Get("permissions")
		if perms.Truthy() {
			query = perms.Call("query", map[string]any{"name": "notifications"})
		}
	})
	if err != nil || !query.Truthy() {
		go set(notificationPermission())
		return
	}
	go func() {
		status, err := await(context.Background(), query)
		if err != nil {
			app.Logf("query the notification permission: %v", err)
			set(notificationPermission())
			return
		}
		status.Call("addEventListener", "change", js.FuncOf(func(js.Value, []js.Value) any {
			go set(permissionName(status.Get("state").String()))
			return nil
		}))
		set(permissionName(status.Get("state").String()))
	}()
}

// permissionName turns a Permissions API state into the name
// Notification.permission uses for it.
func permissionName(state string) string {
	if state == "prompt" {
		return "default"
	}
	return state
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
