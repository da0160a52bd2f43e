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

// Notifications returns the notification state for the button, from the
// permission the browser last reported (watchNotificationPermission).
func (a *App) Notifications() NotifyState {
	a.mu.Lock()
	on, perm := a.notifyOn, a.perm
	a.mu.Unlock()
	return notifyState(notificationsSupported(), perm, on)
}

// notifyState is the state of the button when the browser has
// notifications (supported) with permission perm ("" while not yet
// known) and the user turned them on (on). While the permission is not
// known, the user's choice stands: it was granted when they made it.
func notifyState(supported bool, perm string, on bool) NotifyState {
	switch {
	case !supported:
		return NotifyUnsupported
	case perm == "denied":
		return NotifyBlocked
	case on && (perm == "granted" || perm == ""):
		return NotifyOn
	}
	return NotifyOff
}

// permissionChanged records the notification permission the browser
// reports.
func (a *App) permissionChanged(perm string) {
	a.mu.Lock()
	changed := a.perm != perm
	a.perm = perm
	a.mu.Unlock()
	if changed {
		a.notify()
	}
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
	a.mu.Lock()
	a.perm = perm
	a.mu.Unlock()
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
