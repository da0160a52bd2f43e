package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStageTableSumsNodes: the table sums a stage over the nodes' files
// and reads its quantiles from the summed buckets; stages a build does
// not have are left out.
func TestStageTableSumsNodes(t *testing.T) {
	dir := t.TempDir()
	node := func(name, buckets string) string {
		file := filepath.Join(dir, name)
		text := "# TYPE parley_stage_send_store_seconds histogram\n" + buckets
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	// Node 0: 10 at or below 10 ms, 10 more at or below 20 ms; node 1:
	// 20 more at or below 20 ms. Together 40: the median is at the 20th,
	// 10 ms + 10/30 of the next 10 ms; the 99th percentile (39.6th) in
	// the last bucket.
	a := node("a", "parley_stage_send_store_seconds_bucket{le=\"0.01\"} 10\nparley_stage_send_store_seconds_bucket{le=\"0.02\"} 20\nparley_stage_send_store_seconds_bucket{le=\"+Inf\"} 20\nparley_stage_send_store_seconds_sum 0.3\nparley_stage_send_store_seconds_count 20\n")
	b := node("b", "parley_stage_send_store_seconds_bucket{le=\"0.01\"} 0\nparley_stage_send_store_seconds_bucket{le=\"0.02\"} 20\nparley_stage_send_store_seconds_bucket{le=\"+Inf\"} 20\nparley_stage_send_store_seconds_sum 0.3\nparley_stage_send_store_seconds_count 20\n")
	table, err := stageTable([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "send_store") || !strings.Contains(lines[0], " 40 ") {
		t.Fatalf("table = %q, want one send_store line of 40", table)
	}
	h := &hist{count: 40, bounds: map[float64]uint64{0.01: 10, 0.02: 40, math.Inf(1): 40}}
	if got, want := h.quantile(0.5), 0.01+0.01*10/30; math.Abs(got-want) > 1e-12 {
		t.Errorf("p50 = %v, want %v", got, want)
	}
	if !strings.Contains(lines[0], "p50    13.3 ms") || !strings.Contains(lines[0], "p99    19.9 ms") {
		t.Errorf("line = %q, want p50 13.3 ms and p99 19.9 ms", lines[0])
	}
}
