package main

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/parleychat/parley/server/stages"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// stageTable reads the stage histograms (server/stages) from the nodes'
// saved /metrics files, sums each over the nodes, and returns a line per
// stage: its observations and its p50 and p99 in milliseconds,
// interpolated within a bucket as Prometheus's histogram_quantile does.
// A build without the stages has none: the table is empty.
func stageTable(files []string) (string, error) {
	sums := map[string]*hist{}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			return "", err
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", file, err)
		}
		for _, name := range stages.Names() {
			if fam := fams[name]; fam != nil && len(fam.GetMetric()) == 1 {
				if sums[name] == nil {
					sums[name] = &hist{}
				}
				sums[name].add(fam.GetMetric()[0].GetHistogram())
			}
		}
	}
	var b strings.Builder
	for _, name := range stages.Names() {
		if h := sums[name]; h != nil {
			short := strings.TrimSuffix(strings.TrimPrefix(name, "parley_stage_"), "_seconds")
			fmt.Fprintf(&b, "  %-13s %8d   p50 %7.1f ms   p99 %7.1f ms\n", short, h.count, 1000*h.quantile(0.5), 1000*h.quantile(0.99))
		}
	}
	return b.String(), nil
}

// hist is a histogram summed over nodes: cumulative counts by upper bound.
type hist struct {
	count  uint64
	bounds map[float64]uint64
}

func (h *hist) add(m *dto.Histogram) {
	if h.bounds == nil {
		h.bounds = map[float64]uint64{}
	}
	h.count += m.GetSampleCount()
	for _, b := range m.GetBucket() {
		h.bounds[b.GetUpperBound()] += b.GetCumulativeCount()
	}
}

// quantile is the q-quantile, linear within its bucket; NaN without
// observations, the highest finite bound when it lies beyond it.
func (h *hist) quantile(q float64) float64 {
	if h.count == 0 {
		return math.NaN()
	}
	les := make([]float64, 0, len(h.bounds))
	for le := range h.bounds {
		les = append(les, le)
	}
	sort.Float64s(les)
	rank := q * float64(h.count)
	lo, below := 0.0, uint64(0)
	for _, le := range les {
		n := h.bounds[le]
		if float64(n) >= rank {
			if n == below {
				return le
			}
			return lo + (le-lo)*(rank-float64(below))/float64(n-below)
		}
		lo, below = le, n
	}
	return lo
}
