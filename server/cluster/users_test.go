package cluster_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// sourceIP counts the loopback source addresses handed out: each signup
// comes from its own 127.x.y.z, as users behind different addresses would,
// so the per-address sign-up rate limit of a node sees distinct clients.
var sourceIP atomic.Uint32

// loopbackClient returns an HTTP client whose connections leave from a
// fresh loopback address.
func loopbackClient() *http.Client {
	n := sourceIP.Add(1)
	ip := net.IPv4(127, byte(10+n/64516%200), byte(n/254%254+1), byte(n%254+1))
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
	}
}

// trySignup creates user through baseURL's API and returns the session.
func trySignup(baseURL, user string) (protocol.Session, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	api := client.NewAPI(baseURL, loopbackClient())
	s, err := api.Signup(ctx, protocol.Credentials{Username: user, Password: "secret-" + user})
	if err != nil {
		return s, fmt.Errorf("sign up %s at %s: %w", user, baseURL, err)
	}
	if s.User != user || s.AccessToken == "" {
		return s, fmt.Errorf("sign up %s: odd session %+v", user, s)
	}
	return s, nil
}

// signupAll signs users up concurrently, user i at baseURLs[i%len].
func signupAll(t testing.TB, baseURLs []string, users []string) []protocol.Session {
	t.Helper()
	out := make([]protocol.Session, len(users))
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = trySignup(baseURLs[i%len(baseURLs)], u)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// createRooms creates rooms through baseURL's API as the owner of token.
func createRooms(t testing.TB, baseURL, token string, rooms ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	api := client.NewAPI(baseURL, nil)
	for _, r := range rooms {
		if _, err := api.CreateRoom(ctx, token, r); err != nil {
			t.Fatalf("create room %s: %v", r, err)
		}
	}
}

// userNames returns n user names with a prefix.
func userNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}
