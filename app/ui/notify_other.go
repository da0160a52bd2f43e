//go:build !(js && wasm)

package ui

import "context"

// Outside the browser there are no notifications.

func notificationPermission() string { return "unsupported" }

func notificationsSupported() bool { return false }

func watchNotificationPermission(func(perm string)) {}

func requestNotificationPermission(context.Context) (string, error) { return "unsupported", nil }

func pageHidden() bool { return false }

func showNotification(title, body, tag, path string) {}
