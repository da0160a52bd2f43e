//go:build race

package cluster_test

// raceEnabled: the test binary, and so the node binary, is built with -race.
const raceEnabled = true
