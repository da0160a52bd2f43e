//go:build !js

// Package term is Parley's terminal chat client, the `parley chat`
// subcommand. It signs in over the HTTP API, follows one room through the
// shared Go client (so it reconnects and recovers like every other client),
// prints the room's last page and then each new message as
// "15:04 alice: text" on standard output, and sends every line read from
// standard input. Status and errors go to standard error.
//
// Commands typed instead of a message:
//
//	/join ROOM   leave the current room and follow ROOM (created if missing)
//	/quit        leave
//	/help        list the commands
//
// At the end of standard input it waits (briefly) for the messages still
// in flight to be acknowledged, then returns, so piping works:
//
//	echo hello | parley chat --url http://host:8080 --user alice
package term
