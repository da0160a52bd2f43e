package ui

import (
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/app/state"
	"github.com/parleychat/parley/shared/protocol"
)

// TestReactionBar: a stored message has a named toggle button per
// reaction, pressed for the user's own, with its count; a pending or
// deleted message has none.
func TestReactionBar(t *testing.T) {
	r := &roomView{Room: "general"}
	bar := make([]state.RowReaction, len(protocol.Reactions))
	for i, e := range protocol.Reactions {
		bar[i].Emoji = e
	}
	bar[0] = state.RowReaction{Emoji: "👍", Count: 2, Mine: true}
	bar[5] = state.RowReaction{Emoji: "😢", Count: 1}
	html := app.HTMLString(r.row(state.Row{Kind: state.RowMessage, Offset: 7, Author: "bob", Body: "hi", Reactions: bar}))
	if !strings.Contains(html, `role="group"`) || !strings.Contains(html, `aria-label="Reactions"`) {
		t.Errorf("the bar is no group named Reactions:\n%s", html)
	}
	// Attributes come in no set order: check each button's one by one.
	buttons := strings.Split(html, "<button")[1:]
	if len(buttons) != len(protocol.Reactions) {
		t.Fatalf("%d buttons, want %d:\n%s", len(buttons), len(protocol.Reactions), html)
	}
	wants := map[int][]string{
		0: {`id="react-7-0"`, `class="reaction mine"`, `type="button"`, `data-emoji="👍"`, `data-offset="7"`,
			`aria-label="thumbs up, 2 reactions"`, `>2</span>`},
		1: {`id="react-7-1"`, `class="reaction none"`, `data-emoji="❤️"`, `data-mine="false"`, `aria-label="heart, 0 reactions"`, `aria-pressed="false"`},
		5: {`class="reaction"`, `aria-label="sad, 1 reaction"`, `aria-pressed="false"`, `>1</span>`},
	}
	for i, want := range wants {
		for _, w := range want {
			if !strings.Contains(buttons[i], w) {
				t.Errorf("button %d lacks %s:\n%s", i, w, buttons[i])
			}
		}
	}
	// HTMLString writes a "true" attribute bare; the browser reads "true".
	if !strings.Contains(buttons[0], "aria-pressed") || strings.Contains(buttons[0], `aria-pressed="false"`) ||
		!strings.Contains(buttons[0], "data-mine") || strings.Contains(buttons[0], `data-mine="false"`) {
		t.Errorf("the user's reaction is not pressed:\n%s", buttons[0])
	}
	if strings.Contains(buttons[1], "reaction-count") {
		t.Errorf("a reaction nobody chose shows a count:\n%s", buttons[1])
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
