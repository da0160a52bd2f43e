package testenv

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// Main runs a package's tests and then checks that they left no goroutine
// running: every package's TestMain is
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// A leak fails the run with the leaked goroutines' stacks (goleak retries
// for a while, so goroutines that are still winding down are not counted).
// Main also removes what testenv started for the whole process: the shared
// PostgreSQL server and the parley binary it built.
func Main(m *testing.M, ignore ...goleak.Option) {
	code := m.Run()
	if code == 0 {
		// Keep-alive connections of the default client park a reader
		// and a writer goroutine each; they are the client's, not a leak.
		http.DefaultClient.CloseIdleConnections()
		if err := goleak.Find(ignore...); err != nil {
			fmt.Fprintf(os.Stderr, "goroutine leak after the tests passed: %v\n", err)
			code = 1
		}
	}
	cleanupProcess()
	os.Exit(code)
}
