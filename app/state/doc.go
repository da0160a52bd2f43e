// Package state holds what Parley's browser app shows, as plain data with
// pure update methods: a room's timeline (stored messages merged by offset,
// plus the user's own messages still waiting for their ack), presence and
// typing, and the formatting of times and labels. It has no dependency on
// go-app or the browser, so it is tested natively; app/ui owns one value of
// each and serializes access to it.
package state
