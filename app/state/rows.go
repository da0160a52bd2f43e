package state

import "time"

// RowKind says what a Row shows.
type RowKind int

// Row kinds.
const (
	// RowDay separates two calendar days.
	RowDay RowKind = iota + 1
	// RowMessage is one message.
	RowMessage
)

// groupWindow is how close two messages of one author must be for the
// second to be shown without repeating the author line.
const groupWindow = 5 * time.Minute

// Row is one line of a room's message list, ready to render.
type Row struct {
	Kind RowKind
	// Day is the label of a RowDay.
	Day string

	Offset int64
	CID    string
	Author string
	Body   string
	TS     int64
	// Clock is TS as HH:MM; Title is the full date and time.
	Clock, Title string
	// Own marks the user's own messages.
	Own bool
	// Pending marks a message waiting for its ack; Failed says why the
	// node refused it.
	Pending bool
	Failed  string
	// Edited marks a message whose body was edited; Deleted one that was
	// deleted (Body is empty: show a placeholder).
	Edited, Deleted bool
	// Reactions is a stored message's reaction bar (none while pending,
	// or once deleted).
	Reactions []RowReaction
	// Continued is true when the previous row is a message of the same
	// author shortly before, so the author line is not repeated.
	Continued bool
}

// Rows lays out a timeline for user me at time now in loc: stored messages
// by offset, then pending ones, with a day separator before the first
// message of each calendar day.
func Rows(t *Timeline, me string, now time.Time, loc *time.Location) []Row {
	rows := make([]Row, 0, len(t.Messages)+len(t.Pending)+4)
	var last *Row
	add := func(r Row) {
		if last == nil || !SameDay(last.TS, r.TS, loc) {
			rows = append(rows, Row{Kind: RowDay, Day: DayLabel(r.TS, now, loc), TS: r.TS})
		} else if last.Author == r.Author && r.TS-last.TS < groupWindow.Milliseconds() && last.Failed == "" {
			r.Continued = true
		}
		r.Kind = RowMessage
		r.Clock = Clock(r.TS, loc)
		r.Title = FullTime(r.TS, loc)
		rows = append(rows, r)
		last = &rows[len(rows)-1]
	}
	for _, m := range t.Messages {
		if m.IsEvent() {
			continue // applied to the message it changes
		}
		r := Row{Offset: m.Offset, CID: m.CID, Author: m.Author, Body: m.Body, TS: m.TS, Own: m.Author == me,
			Edited: m.Edited > 0, Deleted: m.Deleted}
		if !m.Deleted {
			r.Reactions = rowReactions(&m, me)
		}
		add(r)
	}
	for _, p := range t.Pending {
		add(Row{CID: p.CID, Author: me, Body: p.Body, TS: p.TS, Own: true, Pending: p.Failed == "", Failed: p.Failed})
	}
	return rows
}
