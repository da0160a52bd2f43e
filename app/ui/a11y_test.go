package ui

import (
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"golang.org/x/net/html"

	"github.com/parleychat/parley/app/state"
)

// doc is parsed HTML. go-app writes attributes in map order, so tests look
// at single attributes, never at the markup as a string.
type doc struct{ *html.Node }

func parse(t *testing.T, s string) doc {
	t.Helper()
	n, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return doc{n}
}

// all returns the elements for which match holds.
func (d doc) all(match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for n := range d.Descendants() {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
	}
	return out
}

func (d doc) byID(id string) *html.Node {
	if ns := d.all(func(n *html.Node) bool { return attr(n, "id") == id }); len(ns) > 0 {
		return ns[0]
	}
	return nil
}

func (d doc) byClass(cls string) []*html.Node {
	return d.all(func(n *html.Node) bool { return hasClass(n, cls) })
}

func hasClass(n *html.Node, cls string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == cls {
			return true
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// textOf is the text of n with runs of white space (go-app's encoder
// indents) as one space.
func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// TestRowReadsRight: a message body takes the direction of its own script
// (dir=auto), names are isolated in <bdi> so an Arabic or Hebrew name does
// not reorder what follows, and a continued message keeps its time.
func TestRowReadsRight(t *testing.T) {
	r := &roomView{Room: "general"}
	first := parse(t, app.HTMLString(r.row(state.Row{Kind: state.RowMessage, Author: "سارة", Body: "مرحبا", Clock: "10:00"})))
	bodies := first.byClass("body")
	if len(bodies) != 1 || attr(bodies[0], "dir") != "auto" {
		t.Fatalf("message body without dir=auto: %v", bodies)
	}
	authors := first.byClass("author")
	if len(authors) != 1 || authors[0].Data != "bdi" || textOf(authors[0]) != "سارة" {
		t.Fatalf("author not in a <bdi>: %v", authors)
	}
	cont := parse(t, app.HTMLString(r.row(state.Row{Kind: state.RowMessage, Author: "bob", Body: "again", Clock: "10:01", Continued: true})))
	times := cont.byClass("time")
	if len(times) != 1 || textOf(times[0]) != "10:01" {
		t.Fatalf("continued message shows %d times", len(times))
	}
	if len(cont.byClass("author")) != 0 {
		t.Error("continued message repeats the author")
	}
}

// TestDecorativeIconsHidden: go-app drops alt="", so decorative icons are
// not <img> elements at all, and are hidden from assistive technology.
func TestDecorativeIconsHidden(t *testing.T) {
	for name, ui := range map[string]app.UI{
		"welcome":   welcome("ann"),
		"auth":      &authPage{},
		"prerender": &authPage{Prerender: true},
	} {
		d := parse(t, app.HTMLString(ui))
		if imgs := d.all(func(n *html.Node) bool { return n.Data == "img" && attr(n, "alt") == "" }); len(imgs) != 0 {
			t.Errorf("%s: <img> without alt", name)
		}
		logos := d.byClass("logo")
		// go-app's encoder writes a "true" value as a bare attribute; in
		// the browser it calls setAttribute("aria-hidden", "true").
		if len(logos) != 1 || !hasAttr(logos[0], "aria-hidden") {
			t.Errorf("%s: logos %v", name, logos)
		}
	}
}

// TestWelcomeTitleFocusable: after a sign-in the welcome heading takes the
// focus, so it must accept it.
func TestWelcomeTitleFocusable(t *testing.T) {
	d := parse(t, app.HTMLString(welcome("ann")))
	h := d.byID(welcomeTitleID)
	if h == nil || attr(h, "tabindex") != "-1" || textOf(h) != "Hi ann !" {
		t.Fatalf("welcome heading: %v", h)
	}
}

// TestPeopleCountOffline: offline, the header says so instead of a green
// dot and "0".
func TestPeopleCountOffline(t *testing.T) {
	r := &roomView{Room: "general", view: RoomView{Online: false}}
	d := parse(t, app.HTMLString(app.Div().Body(r.peopleCount()...)))
	if len(d.byClass("online")) != 0 || textOf(d.Node) != "– offline" {
		t.Fatalf("offline header: %q", textOf(d.Node))
	}
	r.view = RoomView{Online: true, Present: []string{"me", "ann"}}
	d = parse(t, app.HTMLString(app.Div().Body(r.peopleCount()...)))
	if len(d.byClass("online")) != 1 || textOf(d.Node) != "2 here" {
		t.Fatalf("online header: %q", textOf(d.Node))
	}
}

// TestEmptyRoomSaysItOnce: an empty room has one line that says so, not
// "the start of" and "no messages" both.
func TestEmptyRoomSaysItOnce(t *testing.T) {
	r := &roomView{Room: "quiet", view: RoomView{Ready: true}}
	if edge := r.historyEdge(); edge != nil {
		t.Fatalf("empty room has an edge: %s", app.HTMLString(edge))
	}
	r.view.Rows = []state.Row{{Kind: state.RowMessage, Author: "a", Body: "x"}}
	if edge := r.historyEdge(); edge == nil || !strings.Contains(app.HTMLString(edge), "start of #quiet") {
		t.Fatal("a room with messages lacks its start line")
	}
}
