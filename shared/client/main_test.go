//go:build !js

package client

import (
	"testing"
	"time"

	"github.com/parleychat/parley/shared/testenv"
)

// TestMain fails the run if the tests leave a goroutine behind.
func TestMain(m *testing.M) { testenv.Main(m) }

// waitTimeout bounds every wait for a condition: generous, because a busy
// machine is slow, and a condition that holds ends the wait at once.
const waitTimeout = 30 * time.Second
