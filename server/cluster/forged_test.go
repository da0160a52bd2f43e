package cluster_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// TestForgedPublishIgnored: someone who can reach Redis publishes, on a
// live room's channel, a message with any author and offset 999999999,
// both bare and with a made-up tag. Neither reaches a client on either
// node, each node logs the fault, and the next real message is delivered
// live at offset 1 on both nodes.
func TestForgedPublishIgnored(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	const room = "forged"
	names := userNames("forge", 2)
	sessions := signupAll(t, c.baseURLs(), names)
	createRooms(t, c.nodes[0].URL, sessions[0].AccessToken, room)
	chatters := make([]*chatter, len(names))
	for i, name := range names {
		chatters[i] = connect(t, c.nodes[i].WSURL(), name, sessions[i].AccessToken, chatOptions{})
		chatters[i].subscribe(room)
	}

	forged, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: &protocol.Message{
		Room: room, Offset: 999999999, Author: "admin", Body: "click here", TS: 1,
	}})
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(&redis.Options{Addr: c.redis.Addr()})
	defer rc.Close()
	ctx := context.Background()
	for _, payload := range [][]byte{forged, append(forged, strings.Repeat("x", 32)...)} {
		n, err := rc.Publish(ctx, "parley:room:"+room, payload).Result()
		if err != nil || n != 2 {
			t.Fatalf("raw publish reached %d nodes, err %v; want 2", n, err)
		}
	}
	for _, n := range c.nodes {
		testenv.Eventually(t, waitTimeout, n.ID+" logs the forged payloads", func() error {
			if !strings.Contains(n.Log(), "broker payload authentication failing") {
				return fmt.Errorf("no authentication fault in %s's log", n.ID)
			}
			return nil
		})
	}
	chatters[0].send(room, "real")
	for _, ch := range chatters {
		testenv.Eventually(t, waitTimeout, "the real message arrives", func() error {
			msgs := ch.messages(room)
			if len(msgs) != 1 || msgs[0].Offset != 1 || msgs[0].Body != "real" {
				return fmt.Errorf("messages %+v, want only the real one at offset 1", msgs)
			}
			return nil
		})
	}
}
