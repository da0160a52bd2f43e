package ui

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/parleychat/parley/shared/protocol"
)

// roomPrefix starts the path of a room page: /room/{name}.
const roomPrefix = "/room/"

// Routes registers Parley's pages with go-app: "/" (room list),
// "/room/{name}" (a room) and "/account". All show the sign-in screen when
// signed out.
// Call it once, before app.RunWhenOnBrowser or before serving.
func Routes() {
	app.Route("/", newShell)
	app.RouteWithRegexp(`^/room/[a-z0-9][a-z0-9_-]{0,47}$`, newShell)
	app.Route(AccountPath, newShell)
}

func newShell() app.Composer { return &shell{} }

// RoomPath returns the page path of room.
func RoomPath(room string) string { return roomPrefix + room }

// roomFromPath returns the room a page path names, "" for any other page.
func roomFromPath(path string) string {
	name, ok := strings.CutPrefix(path, roomPrefix)
	if !ok || !protocol.ValidRoomName(name) {
		return ""
	}
	return name
}
