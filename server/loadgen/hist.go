package loadgen

import (
	"math/bits"
	"time"
)

// histSub is the number of sub-buckets per power of two: values are kept
// within 1/histSub (about 3%) of what was recorded.
const histSub = 32

// Hist is a log-linear latency histogram in microseconds. Histograms of
// several processes merge by adding their counts, so percentiles cover
// every delivery of a run, not an average of averages.
type Hist struct {
	Counts []uint64 `json:"counts"`
	N      uint64   `json:"n"`
	Max    int64    `json:"max_us"`
}

func histIndex(us int64) int {
	if us < 2*histSub {
		return int(max(us, 0))
	}
	e := bits.Len64(uint64(us)) - 6 // us >> e is in [32, 64)
	return e*histSub + int(us>>e)
}

// histValue is the smallest value of bucket i.
func histValue(i int) int64 {
	if i < 2*histSub {
		return int64(i)
	}
	e := i/histSub - 1
	return int64(i-e*histSub) << e
}

// Record adds one latency.
func (h *Hist) Record(d time.Duration) {
	us := d.Microseconds()
	i := histIndex(us)
	if i >= len(h.Counts) {
		h.Counts = append(h.Counts, make([]uint64, i+1-len(h.Counts))...)
	}
	h.Counts[i]++
	h.N++
	h.Max = max(h.Max, us)
}

// Merge adds o's counts to h.
func (h *Hist) Merge(o Hist) {
	if len(o.Counts) > len(h.Counts) {
		h.Counts = append(h.Counts, make([]uint64, len(o.Counts)-len(h.Counts))...)
	}
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	h.N += o.N
	h.Max = max(h.Max, o.Max)
}

// Quantile returns the latency below which a fraction q of the recorded
// ones lie (0 when nothing was recorded).
func (h *Hist) Quantile(q float64) time.Duration {
	if h.N == 0 {
		return 0
	}
	if q >= 1 {
		return time.Duration(h.Max) * time.Microsecond
	}
	rank := uint64(q*float64(h.N-1)) + 1
	var seen uint64
	for i, c := range h.Counts {
		if seen += c; seen >= rank {
			return time.Duration(min(histValue(i), h.Max)) * time.Microsecond
		}
	}
	return time.Duration(h.Max) * time.Microsecond
}
