// Package e2e holds Parley's end-to-end browser tests: they build the real
// server (with the web app built into it), start it on a free port, and
// drive two or more headless Chromium browsers through the app exactly as
// people use it. The tests need build/web/app.wasm (make wasm) and Chromium
// (PARLEY_CHROMIUM, else /usr/bin/chromium); without either they fail.
//
// Screenshots of every screen go to build/test-artifacts/e2e (or
// PARLEY_TEST_ARTIFACTS); the test log names each file.
package e2e
