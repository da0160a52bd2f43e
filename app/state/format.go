package state

import (
	"fmt"
	"strings"
	"time"
)

// Time returns the time of a Unix-millisecond timestamp in loc.
func Time(ts int64, loc *time.Location) time.Time {
	return time.UnixMilli(ts).In(loc)
}

// Clock formats a timestamp as 24-hour HH:MM.
func Clock(ts int64, loc *time.Location) string {
	return Time(ts, loc).Format("15:04")
}

// FullTime formats a timestamp for a tooltip: "Monday, 2 January 2006 at 15:04:05".
func FullTime(ts int64, loc *time.Location) string {
	return Time(ts, loc).Format("Monday, 2 January 2006 at 15:04:05")
}

// DayLabel names the calendar day of ts relative to now: "Today",
// "Yesterday", "Monday, 2 January" within the same year, else
// "2 January 2006".
func DayLabel(ts int64, now time.Time, loc *time.Location) string {
	t := Time(ts, loc)
	now = now.In(loc)
	d, today := dayOf(t), dayOf(now)
	switch {
	case d.Equal(today):
		return "Today"
	case d.Equal(today.AddDate(0, 0, -1)):
		return "Yesterday"
	case t.Year() == now.Year():
		return t.Format("Monday, 2 January")
	default:
		return t.Format("2 January 2006")
	}
}

func dayOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// SameDay reports whether two timestamps fall on the same calendar day in loc.
func SameDay(a, b int64, loc *time.Location) bool {
	return dayOf(Time(a, loc)).Equal(dayOf(Time(b, loc)))
}

// TypingLabel describes who is typing: "ann is typing…", "ann and bob are
// typing…", "ann, bob and cy are typing…", "ann, bob and 3 others are
// typing…"; empty for nobody.
func TypingLabel(users []string) string {
	switch n := len(users); {
	case n == 0:
		return ""
	case n == 1:
		return users[0] + " is typing…"
	case n == 2:
		return users[0] + " and " + users[1] + " are typing…"
	case n == 3:
		return users[0] + ", " + users[1] + " and " + users[2] + " are typing…"
	default:
		return fmt.Sprintf("%s, %s and %d others are typing…", users[0], users[1], n-2)
	}
}

// Initials returns up to two letters standing for a username, for avatars.
func Initials(user string) string {
	parts := strings.FieldsFunc(user, func(r rune) bool { return r == '.' || r == '_' || r == '-' })
	var b strings.Builder
	for _, p := range parts {
		if b.Len() >= 2 {
			break
		}
		b.WriteString(strings.ToUpper(p[:1]))
	}
	if b.Len() == 1 && len(parts) == 1 && len(user) > 1 {
		b.WriteString(strings.ToLower(user[1:2]))
	}
	if b.Len() == 0 && user != "" {
		b.WriteString(strings.ToUpper(user[:1]))
	}
	return b.String()
}

// AvatarColors is the size of the avatar palette: the style sheet has one
// class per color (hue-0 … hue-11, 30° apart), because the page's
// Content-Security-Policy allows no style attributes.
const AvatarColors = 12

// AvatarColor returns a stable palette index (0 to AvatarColors-1) for a
// username, so each person keeps one avatar color everywhere.
func AvatarColor(user string) int {
	var h uint32 = 2166136261
	for i := 0; i < len(user); i++ {
		h ^= uint32(user[i])
		h *= 16777619
	}
	return int(h % AvatarColors)
}
