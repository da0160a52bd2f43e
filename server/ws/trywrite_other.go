//go:build !linux

package ws

// tryState is empty where tryWritev cannot try (not Linux).
type tryState struct{}

// tryWritev writes nothing where a write that must not block is not
// made (not Linux): a group turn leaves the connection to its own writer.
func (fw *frameWriter) tryWritev(a, b []byte) (int, error) { return 0, nil }
