package cluster_test

import (
	"testing"
	"time"

	"github.com/parleychat/parley/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// waitTimeout bounds every wait for a condition: generous, because a busy
// machine running several race-enabled nodes is slow, and a condition that
// holds ends the wait at once.
const waitTimeout = 2 * time.Minute
