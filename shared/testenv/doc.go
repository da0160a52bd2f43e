// Package testenv is Parley's one test kit, shared by every package of the
// module (app/e2e included):
//
//   - Eventually (and Poll, for non-test goroutines): the one way to wait for
//     a condition. Tests never sleep and hope.
//   - Main: every package's TestMain; it fails the run when the tests leave a
//     goroutine behind (go.uber.org/goleak).
//   - Clock: a settable time source for code that takes a func() time.Time.
//   - StartRedis, Postgres, NewPostgres: throwaway redis-server and
//     PostgreSQL servers on free loopback ports, which a test may stop and
//     start again. A missing server binary fails the test with a clear
//     message; tests never skip for lack of one.
//   - ParleyBinary and StartNode: the parley binary, built once per test run
//     (make test exports PARLEY_TEST_BINARY), and node processes on free
//     ports that a test may kill, freeze, drain and restart; their logs are
//     checked for races and panics and kept under build/test-artifacts when
//     a test fails.
//
// Everything a test starts is removed when the test (or, for servers shared
// by a whole package, the test process) ends.
package testenv
