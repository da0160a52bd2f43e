package ui

import "github.com/parleychat/parley/shared/protocol"

// tabMessage is what a tab tells the others.
type tabMessage struct {
	// Kind is tabSignedIn or tabSignedOut.
	Kind string `json:"kind"`
	User string `json:"user"`
	// Notice is why a sign-out happened, for the sign-in screen.
	Notice string `json:"notice,omitempty"`
}

// Tab message kinds. tabOutbox: the tab added to the user's outbox in
// the cache; the tab that holds the outbox lock reads it and sends.
const (
	tabSignedIn  = "signed-in"
	tabSignedOut = "signed-out"
	tabOutbox    = "outbox"
)

// signedOutElsewhere is the notice of a tab signed out by another one.
const signedOutElsewhere = "You signed out in another tab."

// onTabMessage follows another tab: a sign-out of this tab's user signs
// this tab out too (that tab already ended the session and cleared the
// storage they share); a sign-in starts this tab as that user, through the
// refresh cookie they share.
func (a *App) onTabMessage(m tabMessage) {
	if m.User == "" || len(m.User) > protocol.MaxUsernameLen {
		return
	}
	a.mu.Lock()
	me := a.sess.User
	switch {
	case m.Kind == tabSignedOut && me == m.User:
		a.resetLocked()
		a.notice = m.Notice
		if a.notice == "" {
			a.notice = signedOutElsewhere
		}
	case m.Kind == tabOutbox && me == m.User:
		if a.owner {
			a.readOutboxLocked()
		}
		a.mu.Unlock()
		return
	case m.Kind == tabSignedIn && me != m.User:
		a.resetLocked()
		a.notice = ""
		a.mu.Unlock()
		a.start(protocol.Session{User: m.User})
		return
	default:
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	a.notify()
}
