package ui

import (
	"context"
	"strconv"

	"github.com/parleychat/parley/shared/protocol"
)

// keyNotify remembers that the user turned mention notifications on (with
// the button; the browser's permission alone is not enough).
const keyNotify = keyPrefix + "notify"

// NotifyState says whether a mention in a hidden tab raises a system
// notification.
type NotifyState int

// Notification states.
const (
	// NotifyUnsupported: the browser has no notifications.
	NotifyUnsupported NotifyState = iota
	// NotifyOff: the user has not turned them on (or turned them off).
	NotifyOff
	// NotifyOn: turned on and allowed by the browser.
	NotifyOn
	// NotifyBlocked: the browser refuses them (the user said no there).
	NotifyBlocked
)

// Notifications returns the notification state for the button.
func (a *App) Notifications() NotifyState {
	a.mu.Lock()
	on := a.notifyOn
	a.mu.Unlock()
	switch notificationPermission() {
	case "unsupported":
		return NotifyUnsupported
	case "denied":
		return NotifyBlocked
	case "granted":
		if on {
			return NotifyOn
		}
	}
	return NotifyOff
}

// EnableNotifications asks the browser for permission (it prompts the
// first time; call it from a click only, never on load) and turns mention
// notifications on when granted. It blocks: run it from ctx.Async.
func (a *App) EnableNotifications(ctx context.Context) error {
	perm, err := requestNotificationPermission(ctx)
	if err != nil {
		a.notify()
		return err
	}
	a.setNotify(perm == "granted")
	return nil
}

// DisableNotifications turns mention notifications off.
func (a *App) DisableNotifications() { a.setNotify(false) }

func (a *App) setNotify(on bool) {
	a.mu.Lock()
	a.notifyOn = on
	a.mu.Unlock()
	if on {
		_ = a.kv.Set(keyNotify, true) // a full storage costs the next visit the setting
	} else {
		a.kv.Del(keyNotify)
	}
	a.notify()
}

// loadNotify reads the setting saved by setNotify.
func (a *App) loadNotify() {
	var on bool
	_ = a.kv.Get(keyNotify, &on) // a broken setting is off
	a.mu.Lock()
	a.notifyOn = on
	a.mu.Unlock()
}

// notificationTag names the notification of one message.
func notificationTag(m *protocol.Message) string {
	return "parley:" + m.Room + ":" + strconv.FormatInt(m.Offset, 10)
}
