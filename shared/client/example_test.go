//go:build !js

package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// Sign in, list the rooms and create one. Needs a running node.
func ExampleAPI() {
	ctx := context.Background()
	api := client.NewAPI("http://localhost:8080", nil)
	sess, err := api.Login(ctx, protocol.Credentials{Username: "alice", Password: "correct horse battery"})
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Code == protocol.ErrUnauthorized {
		log.Fatal("wrong name or password")
	}
	if err != nil {
		log.Fatal(err)
	}
	rooms, err := api.Rooms(ctx, sess.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rooms {
		fmt.Println(r.Name, r.Head)
	}
	if _, err := api.CreateRoom(ctx, sess.AccessToken, "random"); err != nil && !isConflict(err) {
		log.Fatal(err)
	}
}

func isConflict(err error) bool {
	var e *client.APIError
	return errors.As(err, &e) && e.Code == protocol.ErrConflict
}

// Keep a connection, follow a room and send to it. Needs a running node.
func ExampleClient() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api := client.NewAPI("http://localhost:8080", nil)
	sess, err := api.Login(ctx, protocol.Credentials{Username: "alice", Password: "correct horse battery"})
	if err != nil {
		log.Fatal(err)
	}
	wsURL, err := client.WebSocketURL("http://localhost:8080")
	if err != nil {
		log.Fatal(err)
	}
	c := client.New(client.Config{
		URL: wsURL,
		// A real token source refreshes the session before it expires.
		Token: func(context.Context) (string, error) { return sess.AccessToken, nil },
		OnEvent: func(ev client.Event) {
			switch ev.Kind {
			case client.EventMessage:
				fmt.Printf("%s #%d %s: %s\n", ev.Room, ev.Offset, ev.Msg.Author, ev.Msg.Body)
			case client.EventAck:
				fmt.Println("stored as", ev.Offset)
			case client.EventDisconnected:
				fmt.Println("offline, retrying in", ev.Retry, "because", ev.Err)
			}
		},
	})
	if err := c.Subscribe(protocol.DefaultRoom, 0); err != nil {
		log.Fatal(err)
	}
	// Queued now, written once connected, resent until acknowledged.
	if _, err := c.Send(protocol.DefaultRoom, "hello"); err != nil {
		log.Fatal(err)
	}
	if err := c.Run(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Fatal(err)
	}
}

func ExampleWebSocketURL() {
	for _, base := range []string{"http://localhost:8080", "https://chat.example.com/"} {
		u, err := client.WebSocketURL(base)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u)
	}
	// Output:
	// ws://localhost:8080/ws
	// wss://chat.example.com/ws
}

func ExampleBackoff() {
	for attempt := 0; attempt < 4; attempt++ {
		d := client.Backoff(attempt, 250*time.Millisecond, 30*time.Second)
		fmt.Println(d <= 250*time.Millisecond<<attempt)
	}
	// Output:
	// true
	// true
	// true
	// true
}
