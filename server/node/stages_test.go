package node_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/parleychat/parley/shared/testenv"
)

// stageCounts scrapes the node's /metrics and returns each
// parley_stage_*_seconds histogram's sample count by stage name.
func stageCounts(url string) (map[string]float64, error) {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	counts := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		stage, isStage := strings.CutPrefix(name, "parley_stage_")
		stage, isCount := strings.CutSuffix(stage, "_seconds_count")
		if !ok || !isStage || !isCount {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("metric %s: %w", name, err)
		}
		counts[stage] = v
	}
	return counts, sc.Err()
}

// TestStagesCountEachMessage: each message sent, one at a time, advances
// every stage of the send path, the broker hop, the room's hold and its
// hand-off by one, and the writes by at least one (the delivery).
func TestStagesCountEachMessage(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	alice, bob := twoInGeneral(t, n)
	before, err := stageCounts(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	const sent = 3
	for i := range sent {
		if _, err := alice.Send("general", fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
		// One at a time: each is its own batch and its own hand-off.
		testenv.Eventually(t, waitTimeout, "bob sees the message", testenv.Cond(func() bool { return len(bob.bodies("general")) == i+1 }))
	}
	exact := []string{"send_access", "send_budget", "send_store", "send_publish", "broker_hop", "room_hold", "room_handoff"}
	testenv.Eventually(t, waitTimeout, "stages counted", func() error {
		after, err := stageCounts(n.URL)
		if err != nil {
			return err
		}
		for _, st := range exact {
			if got := after[st] - before[st]; got != sent {
				return fmt.Errorf("parley_stage_%s_seconds_count advanced by %v, want %d", st, got, sent)
			}
		}
		if got := after["conn_write"] - before["conn_write"]; got < sent {
			return fmt.Errorf("parley_stage_conn_write_seconds_count advanced by %v, want at least %d", got, sent)
		}
		return nil
	})
}
