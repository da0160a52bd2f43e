package testenv

import (
	"testing"
)

// TestMain fails the run if the tests leave a goroutine behind.
func TestMain(m *testing.M) { Main(m) }
