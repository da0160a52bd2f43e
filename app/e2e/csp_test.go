//go:build !(js && wasm)

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// recordViolations runs in every document before its own scripts and
// records each Content-Security-Policy violation the page reports.
const recordViolations = `(() => {
  window.__csp = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__csp.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile + ":" + e.lineNumber });
  });
})();`

type violation struct{ Directive, Blocked, Sample, Source string }

// violations returns the CSP violations the page reported so far.
func (b *browser) violations() []violation {
	b.t.Helper()
	var v []violation
	if err := json.Unmarshal([]byte(eval[string](b, `JSON.stringify(window.__csp || null)`)), &v); err != nil {
		b.t.Fatal(err)
	}
	return v
}

// TestNoCSPViolations goes through the app under the node's strict CSP
// (no inline styles or scripts): sign-up through the form, a room with
// messages and avatars (own, someone else's, the presence list), a send,
// and a reload that paints the saved snapshot and runs from the service
// worker. The page must report no violation. A style attribute set on
// purpose at the end proves that the recorder sees violations.
func TestNoCSPViolations(t *testing.T) {
	srv := startServer(t)
	bob := srv.signup(t, "bob")
	postMessages(t, srv, bob, "general", "hello from bob")
	b := newBrowser(t, "carol", 1280, 800)
	b.do(recordOnNewDocument(recordViolations))
	b.open(srv.base + "/")
	csp := awaitEval[string](b, `fetch(location.href).then(r => r.headers.get("content-security-policy") || "")`)
	if !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("the page is not served under a strict CSP: %q", csp)
	}

	b.click("tab-signup")
	b.waitFor("the sign-up form", `document.getElementById("auth-submit").textContent === "Create account"`)
	b.typeInto("auth-username", "carol")
	b.typeInto("auth-password", password)
	b.click("auth-submit")
	b.waitFor("the signed-in app", signedIn("carol"))
	b.waitFor("the room list", `document.getElementById("general-link")`)
	b.click("general-link")
	b.waitFor("the room", roomReady)
	b.waitFor("bob's message", hasBody("hello from bob"))
	b.typeInto("composer", "hello from carol")
	b.do(pressEnter(false))
	b.waitFor("carol's message acknowledged", rowOf("hello from carol")+`?.matches(".own:not(.pending)")`)
	b.waitFor("avatars with a palette color", `document.querySelectorAll(".avatar[class*='hue-']").length >= 3`)
	b.waitCached()
	if v := b.violations(); len(v) != 0 {
		t.Fatalf("%d CSP violations: %+v", len(v), v)
	}

	b.open(srv.base + "/room/general")
	b.waitFor("the room after a reload", roomReady)
	b.waitFor("bob's message after a reload", hasBody("hello from bob"))
	if v := b.violations(); len(v) != 0 {
		t.Fatalf("%d CSP violations: %+v", len(v), v)
	}

	eval[bool](b, `(document.body.setAttribute("style", "color: red"), true)`)
	b.waitFor("the control violation", `window.__csp.length === 1`)
	if v := b.violations(); v[0].Directive != "style-src-attr" {
		t.Fatalf("control violation %+v, want style-src-attr", v[0])
	}
}
