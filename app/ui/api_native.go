//go:build !(js && wasm)

package ui

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// nativeAPI is client.API with a logout that can name its session by
// access token (client.API's takes the refresh token only).
type nativeAPI struct {
	*client.API
	base string
}

var _ accountAPI = nativeAPI{}

// newAccountAPI returns the API client for the node at base.
func newAccountAPI(base string) accountAPI {
	return nativeAPI{API: client.NewAPI(base, nil), base: strings.TrimRight(base, "/")}
}

func (n nativeAPI) Logout(ctx context.Context, accessToken string, req protocol.RefreshRequest) error {
	if req.RefreshToken != "" || accessToken == "" {
		return n.API.Logout(ctx, req)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, n.base+protocol.PathLogout, strings.NewReader("{}"))
	if err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("log out: %w", client.NewAPIError(resp.StatusCode, resp.Header.Get("Retry-After"), nil))
	}
	return nil
}
