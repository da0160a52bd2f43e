package cluster_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// TestLogoutEndsSocketsOnOtherNodes: a session ended through one node
// closes its socket on another node at once (through Redis), and its
// access token stops working there, while another session of the same
// user keeps its socket.
func TestLogoutEndsSocketsOnOtherNodes(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	s := signupAll(t, c.baseURLs(), []string{"roamer"})[0]
	api0, api1 := client.NewAPI(c.nodes[0].URL, nil), client.NewAPI(c.nodes[1].URL, nil)
	other, err := api1.Login(ctx, protocol.Credentials{Username: "roamer", Password: "secret-roamer"})
	if err != nil {
		t.Fatal(err)
	}
	// Warm node 1's cache with "live" for the session before it ends.
	if _, err := api1.Rooms(ctx, s.AccessToken); err != nil {
		t.Fatal(err)
	}
	rc, err := dialRaw(ctx, c.nodes[1].WSURL(), s.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	keep, err := dialRaw(ctx, c.nodes[1].WSURL(), other.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer keep.close()
	if err := api0.Logout(ctx, protocol.RefreshRequest{RefreshToken: s.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := rc.read(ctx)
		if err == nil {
			continue
		}
		if code := websocket.CloseStatus(err); code != websocket.StatusCode(protocol.CloseSessionEnded) {
			t.Fatalf("socket on the other node ended with %v (code %d), want %d", err, code, protocol.CloseSessionEnded)
		}
		break
	}
	if _, err := api1.Rooms(ctx, s.AccessToken); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("ended session's token on the other node: %v, want 401", err)
	}
	if err := keep.write(ctx, protocol.Frame{Type: protocol.TypePing, ID: "p"}); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := keep.read(ctx)
		if err != nil {
			t.Fatalf("the other session's socket: %v", err)
		}
		if f.Type == protocol.TypePong {
			break
		}
	}
}
