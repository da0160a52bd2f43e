//go:build race

package testenv

// RaceEnabled reports whether this test binary runs with the race detector.
const RaceEnabled = true
