package stages

import "testing"

// TestObserveChainsStages: a chain of stages records each once, a zero
// stamp (not measured) records nothing, and a nil Stages reads no clock.
func TestObserveChainsStages(t *testing.T) {
	s := New()
	t0 := s.Now()
	if t0 == 0 {
		t.Fatal("Now() = 0, want a stamp")
	}
	t1 := s.Observe(SendAccess, t0)
	if t1 < t0 {
		t.Fatalf("next stamp %d before %d", t1, t0)
	}
	s.Observe(SendBudget, t1)
	if got := s.Observe(SendStore, 0); got != 0 {
		t.Fatalf("Observe from zero = %d, want 0", got)
	}
	s.Set(RoomHold, t0, t1)
	s.Set(RoomHandoff, 0, t1)
	for st, want := range map[Stage]uint64{SendAccess: 1, SendBudget: 1, SendStore: 0, RoomHold: 1, RoomHandoff: 0} {
		if got := s.Count(st); got != want {
			t.Errorf("stage %s: %d observations, want %d", stageInfo[st].name, got, want)
		}
	}
	var none *Stages
	if none.Now() != 0 || none.Observe(SendAccess, t0) != 0 {
		t.Fatal("a nil Stages measured")
	}
	none.Set(RoomHold, t0, t1)
}

// TestObserveAllocatesNothing: stamping and observing costs no
// allocation (the fan-out path allocates none).
func TestObserveAllocatesNothing(t *testing.T) {
	s := New()
	if n := testing.AllocsPerRun(100, func() { s.Observe(ConnWrite, s.Now()) }); n != 0 {
		t.Fatalf("%v allocations per observation", n)
	}
}
