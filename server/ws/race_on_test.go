//go:build race

package ws

// raceEnabled: the race detector doubles the stack guard, so stack
// sizes mean nothing under it.
const raceEnabled = true
