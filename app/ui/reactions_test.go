package ui

import (
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// lacks reports the strings of want that s lacks.
func lacks(s string, want ...string) []string {
	var out []string
	for _, w := range want {
		if !strings.Contains(s, w) {
			out = append(out, w)
		}
	}
	return out
}

// TestReactionBar: a stored message shows a named toggle button for each
// reaction someone chose, pressed for the user's own, with its count, and
// one "Add reaction" button (a closed menu button); nobody's reactions
// are no buttons. A pending or deleted message has no bar.
func TestReactionBar(t *testing.T) {
	r := &roomView{Room: "general"}
	bar := make([]state.RowReaction, len(protocol.Reactions))
	for i, e := range protocol.Reactions {
		bar[i].Emoji = e
	}
	bar[0] = state.RowReaction{Emoji: "👍", Count: 2, Mine: true}
	bar[5] = state.RowReaction{Emoji: "😢", Count: 1}
	html := app.HTMLString(r.row(state.Row{Kind: state.RowMessage, Offset: 7, Author: "bob", Body: "hi", Reactions: bar}))
	if l := lacks(html, `role="group"`, `aria-label="Reactions"`); l != nil {
		t.Errorf("the bar is no group named Reactions (lacks %q):\n%s", l, html)
	}
	// Attributes come in no set order: check each button's one by one.
	buttons := strings.Split(html, "<button")[1:]
	if len(buttons) != 3 {
		t.Fatalf("%d buttons, want 3 (two reactions and Add reaction):\n%s", len(buttons), html)
	}
	wants := [][]string{
		{`id="react-7-0"`, `class="reaction mine"`, `type="button"`, `data-emoji="👍"`, `data-offset="7"`,
			`aria-label="thumbs up, 2 reactions"`, `>2</span>`},
		{`id="react-7-5"`, `class="reaction"`, `aria-label="sad, 1 reaction"`, `aria-pressed="false"`, `data-mine="false"`, `>1</span>`},
		{`id="react-add-7"`, `type="button"`, `aria-label="Add reaction"`, `aria-haspopup="menu"`,
			`aria-expanded="false"`, `aria-controls="react-picker-7"`, `data-offset="7"`},
	}
	for i, want := range wants {
		if l := lacks(buttons[i], want...); l != nil {
			t.Errorf("button %d lacks %q:\n%s", i, l, buttons[i])
		}
	}
	// HTMLString writes a "true" attribute bare; the browser reads "true".
	if !strings.Contains(buttons[0], "aria-pressed") || strings.Contains(buttons[0], `aria-pressed="false"`) ||
		!strings.Contains(buttons[0], "data-mine") || strings.Contains(buttons[0], `data-mine="false"`) {
		t.Errorf("the user's reaction is not pressed:\n%s", buttons[0])
	}
	if strings.Contains(html, `role="menu"`) {
		t.Errorf("the picker shows while closed:\n%s", html)
	}
	for _, row := range []state.Row{
		{Kind: state.RowMessage, CID: "c1", Author: "me", Body: "sending", Own: true, Pending: true},
		{Kind: state.RowMessage, Offset: 8, Author: "bob", Deleted: true},
	} {
		if html := app.HTMLString(r.row(row)); strings.Contains(html, "reaction") {
			t.Errorf("row %+v has a reaction bar:\n%s", row, html)
		}
	}
}

// TestReactionPicker: the open picker is a menu of every emoji of
// protocol.Reactions, named, checked for the user's own, out of the tab
// order, and its button says it is expanded; another message's picker
// stays closed.
func TestReactionPicker(t *testing.T) {
	r := &roomView{Room: "general", picking: 7}
	bar := make([]state.RowReaction, len(protocol.Reactions))
	for i, e := range protocol.Reactions {
		bar[i].Emoji = e
	}
	bar[1] = state.RowReaction{Emoji: protocol.Reactions[1], Count: 1, Mine: true}
	html := app.HTMLString(r.row(state.Row{Kind: state.RowMessage, Offset: 7, Author: "bob", Body: "hi", Reactions: bar}))
	at := strings.Index(html, `id="react-picker-7"`)
	if at < 0 {
		t.Fatalf("no picker:\n%s", html)
	}
	menu := html[strings.LastIndex(html[:at], "<div"):]
	if l := lacks(menu[:strings.Index(menu, ">")], `role="menu"`, `aria-label="Add reaction"`); l != nil {
		t.Errorf("the picker lacks %q:\n%s", l, menu)
	}
	add := html[strings.LastIndex(html[:strings.Index(html, `id="react-add-7"`)], "<button"):]
	if add = add[:strings.Index(add, ">")]; !strings.Contains(add, "aria-expanded") || strings.Contains(add, `aria-expanded="false"`) {
		t.Errorf("the open picker's button is not expanded: %s", add)
	}
	items := strings.Split(menu, "<button")[1:]
	if len(items) != len(protocol.Reactions) {
		t.Fatalf("%d items, want %d:\n%s", len(items), len(protocol.Reactions), menu)
	}
	for i, it := range items {
		want := []string{`role="menuitemcheckbox"`, `tabindex="-1"`, `aria-label="` + reactionNames[i] + `"`,
			`data-emoji="` + protocol.Reactions[i] + `"`, `id="react-pick-7-`}
		if i != 1 {
			want = append(want, `aria-checked="false"`)
		} else if strings.Contains(it, `aria-checked="false"`) {
			t.Errorf("item %d, the user's, is not checked: %s", i, it)
		}
		if l := lacks(it, want...); l != nil {
			t.Errorf("item %d lacks %q: %s", i, l, it)
		}
	}
	other := app.HTMLString(r.row(state.Row{Kind: state.RowMessage, Offset: 8, Author: "bob", Body: "hi", Reactions: bar}))
	if strings.Contains(other, `role="menu"`) {
		t.Errorf("another message's picker is open:\n%s", other)
	}
}
