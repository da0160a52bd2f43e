//go:build !(js && wasm)

package e2e

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// msgAt is the message row of offset off.
func msgAt(off int64) string {
	return `document.querySelector('#messages .msg[data-offset="` + strconv.FormatInt(off, 10) + `"]')`
}

// offsetOf returns the offset of the row whose body is body.
func (b *browser) offsetOf(body string) int64 {
	b.t.Helper()
	b.waitFor("the message "+body, hasBody(body))
	return int64(eval[float64](b, `Number(`+rowOf(body)+`.dataset.offset)`))
}

// TestEditAndDelete: alice edits a message from the keyboard (Escape
// first cancels an edit) and deletes another (after a confirm step,
// which Keep first cancels); bob sees "(edited)" with
// the new text and "Message deleted" live, and the same after a reload;
// carol, opening the room afterwards, reads the same from history; and
// the deleted text is in no browser's storage.
func TestEditAndDelete(t *testing.T) {
	srv := startServer(t)
	alice, bob := newBrowser(t, "alice", 1280, 800), newBrowser(t, "bob", 1280, 800)
	alice.seed(srv.base, srv.signup(t, "alice"))
	bob.seed(srv.base, srv.signup(t, "bob"))
	for _, b := range []*browser{alice, bob} {
		b.open(srv.base + "/room/general")
		b.waitFor("the room", roomReady)
	}
	alice.send("helo wrold")
	alice.send("a secret to delete")
	alice.waitFor("both acknowledged", hasBody("a secret to delete")+` && !document.querySelector("#messages .msg.pending")`)
	first, second := alice.offsetOf("helo wrold"), alice.offsetOf("a secret to delete")
	bob.waitFor("alice's messages at bob", hasBody("a secret to delete"))
	if n := eval[int](bob, `document.querySelectorAll("#messages .msg-actions").length`); n != 0 {
		t.Errorf("bob, a plain member, is offered %d edit or delete actions on alice's messages", n)
	}

	// The Edit button is reached by keyboard, shows on focus, and opens
	// the edit box; Escape leaves the message as it was.
	editID := "edit-" + strconv.FormatInt(first, 10)
	eval[chromedp.Void](alice, `document.getElementById("`+editID+`").focus()`)
	alice.waitFor("the actions shown on focus", `getComputedStyle(`+msgAt(first)+`.querySelector(".msg-actions")).opacity === "1"`)
	alice.do(pressEnter(false))
	alice.waitFor("the edit box, focused", `document.activeElement && document.activeElement.id === "edit-input"`)
	alice.typeInto("edit-input", " never mind")
	alice.do(pressKey("Escape", 27, false))
	alice.waitFor("the edit cancelled, focus back on Edit", `!document.getElementById("edit-input") && document.activeElement.id === "`+editID+`"`)
	alice.waitFor("the text unchanged", hasBody("helo wrold"))

	alice.do(pressEnter(false))
	alice.waitFor("the edit box again", `document.activeElement && document.activeElement.id === "edit-input"`)
	eval[chromedp.Void](alice, `document.getElementById("edit-input").value = ""`)
	alice.typeInto("edit-input", "hello world")
	alice.do(pressEnter(false))
	edited := msgAt(first) + `?.querySelector(".body")?.textContent === "hello world" && ` + msgAt(first) + `.querySelector(".edited")`
	alice.waitFor("the edit at alice", edited)
	bob.waitFor("the edit at bob", edited)

	// Delete asks first: Keep leaves the message, focus back on Delete.
	off := strconv.FormatInt(second, 10)
	alice.click("delete-" + off)
	alice.waitFor("the delete step, focused", `document.activeElement?.id === "delete-confirm-`+off+`" && `+
		msgAt(second)+`.querySelector(".delete-ask")?.textContent === "Delete?"`)
	alice.click("delete-cancel-" + off)
	alice.waitFor("kept, focus back on Delete", `document.activeElement?.id === "delete-`+off+`" && !document.getElementById("delete-confirm-`+off+`")`)
	if !eval[bool](alice, hasBody("a secret to delete")) {
		t.Fatal("Keep deleted the message")
	}
	alice.click("delete-" + off)
	alice.waitFor("the delete step again", `document.activeElement?.id === "delete-confirm-`+off+`"`)
	alice.do(pressEnter(false))
	deleted := msgAt(second) + `?.querySelector(".body.deleted")?.textContent === "Message deleted"`
	alice.waitFor("the deletion at alice", deleted)
	bob.waitFor("the deletion at bob", deleted)
	for _, b := range []*browser{alice, bob} {
		if hasSecret := eval[bool](b, `document.getElementById("messages").textContent.includes("a secret")`); hasSecret {
			t.Errorf("%s still shows the deleted text", b.name)
		}
	}

	// A reload shows the same, from the cache and then from history; so
	// does a user who opens the room only now.
	carol := newBrowser(t, "carol", 1280, 800)
	carol.seed(srv.base, srv.signup(t, "carol"))
	bob.open(srv.base + "/room/general")
	carol.open(srv.base + "/room/general")
	for _, b := range []*browser{bob, carol} {
		b.waitFor("the room", roomReady)
		b.waitFor("the edited message after a reload", edited)
		b.waitFor("the deleted message after a reload", deleted)
		if n := eval[int](b, `document.querySelectorAll("#messages .msg").length`); n != 2 {
			t.Errorf("%s shows %d rows, want 2 (an edit or delete is not a row)", b.name, n)
		}
	}
	hasText := func(text string) string {
		return `(async () => (await ` + idbRecords + `).some((r) => r.includes(` + jsString(text) + `)))()`
	}
	alice.waitAsync("the edit in the cache", hasText("hello world"))
	for _, b := range []*browser{alice, bob} {
		for _, old := range []string{"a secret", "helo wrold"} {
			if awaitEval[bool](b, hasText(old)) {
				t.Errorf("%s's cache still holds %q", b.name, old)
			}
			if eval[bool](b, `Object.keys(localStorage).some((k) => localStorage.getItem(k).includes(`+jsString(old)+`))`) {
				t.Errorf("%s's localStorage still holds %q", b.name, old)
			}
		}
	}
}

// TestModeratorDeletes: the owner of a private room is offered Delete
// (and no Edit) on a member's message, confirms it, and the deletion
// comes back from the node; the member's other message stays.
func TestModeratorDeletes(t *testing.T) {
	srv := startServer(t)
	alice := newBrowser(t, "alice", 1280, 800)
	owner := srv.signup(t, "alice")
	bob := srv.signup(t, "bob")
	alice.seed(srv.base, owner)
	privateRoom(t, srv, owner, "crew", "bob")
	postMessages(t, srv, bob, "crew", "buy cheap watches", "sorry, wrong room")
	alice.open(srv.base + "/room/crew")
	alice.waitFor("bob's messages", roomReady+" && "+hasBody("sorry, wrong room"))
	spam := alice.offsetOf("buy cheap watches")
	off := strconv.FormatInt(spam, 10)
	if eval[bool](alice, msgAt(spam)+`.querySelector(".msg-edit") !== null`) {
		t.Fatal("the owner is offered Edit on bob's message")
	}
	eval[chromedp.Void](alice, `document.getElementById("delete-`+off+`").focus()`)
	alice.do(pressEnter(false))
	alice.waitFor("the delete step, focused", `document.activeElement?.id === "delete-confirm-`+off+`"`)
	alice.click("delete-confirm-" + off)
	alice.waitFor("the deletion", msgAt(spam)+`?.querySelector(".body.deleted")?.textContent === "Message deleted"`)
	if !eval[bool](alice, hasBody("sorry, wrong room")) {
		t.Fatal("bob's other message went too")
	}
}
