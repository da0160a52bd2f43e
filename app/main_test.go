//go:build !js

package app

import (
	"testing"

	"github.com/parleychat/parley/shared/testenv"
)

// TestMain fails the run if the tests leave a goroutine behind.
func TestMain(m *testing.M) { testenv.Main(m) }
