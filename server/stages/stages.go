// Package stages measures where a message's time goes on its way through
// a node: Prometheus histograms, one per stage, each observed on this
// node's own monotonic clock (a node cannot read another node's clock;
// the broker hop is timed from the publishing node's publish to its own
// receipt of that publish).
//
// The stages of a sent message, in order:
//
//	send_access      the first frame of a sender's batch read → membership checked
//	send_budget      the same first frame read → the account's send budget taken
//	                 (Redis), at the same time as the membership check (overlaps send_access)
//	send_store       both done → the batch stored (one transaction)
//	send_publish     stored → the batch published to the broker (one round trip)
//	broker_hop       publish started → this node receives its own publish back from the broker
//	room_hold        received from the broker → its room starts handing it to members'
//	                 queues (the room's inbox and its --coalesce window)
//	room_gap         a gap the broker did not fill within --gap-wait
//	                 seen → its messages read from the store and handed on
//	room_handoff     one hand-off (a room's flush): start → every member's queue has it
//	conn_write       a connection's queue goes from empty to holding a frame → the
//	                 writer has written what it took (one observation per write)
//
// The send stages are observed once per batch of sends (one connection's
// sends read back to back), broker_hop and room_hold once per message,
// room_gap once per gap, room_handoff once per hand-off and conn_write
// once per write: never per delivery. An observation is a few atomic adds and allocates nothing.
package stages

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Stage names one stage.
type Stage int

// The stages, in a message's order (see the package doc).
const (
	SendAccess Stage = iota
	SendBudget
	SendStore
	SendPublish
	BrokerHop
	RoomHold
	RoomGap
	RoomHandoff
	ConnWrite
	numStages
)

var stageInfo = [numStages]struct{ name, help string }{
	SendAccess:  {"send_access", "Send path, per batch of a connection's sends: its first frame read to the room membership checked."},
	SendBudget:  {"send_budget", "Send path, per batch: its first frame read to the account's send budget taken (at the same time as the membership check: overlaps send_access)."},
	SendStore:   {"send_store", "Send path, per batch: membership checked and budget taken to the batch stored (one transaction)."},
	SendPublish: {"send_publish", "Send path, per batch: stored to published to the broker."},
	BrokerHop:   {"broker_hop", "Per message this node published: its publish call started to this node receiving it back from the broker."},
	RoomHold:    {"room_hold", "Per message: received from the broker to its room starting to hand it to members' queues (inbox wait and the coalesce window)."},
	RoomGap:     {"room_gap", "Per gap the broker did not fill within --gap-wait: the gap seen to its messages read from the store and handed to members' queues."},
	RoomHandoff: {"room_handoff", "Per hand-off of a room's gathered messages: start to every member's queue holding them."},
	ConnWrite:   {"conn_write", "Per write of a connection: its queue's oldest frame queued to the write done."},
}

// Stages holds one histogram per stage. A nil *Stages measures nothing.
type Stages struct {
	h [numStages]prometheus.Histogram
}

// Buckets are the histograms' upper bounds in seconds: 0.1 ms to about
// 13 s, each 1.5 times the last, so a quantile read from them is within
// 50% of the truth.
var Buckets = prometheus.ExponentialBuckets(0.0001, 1.5, 30)

// New returns the stages' histograms, named parley_stage_<stage>_seconds.
func New() *Stages {
	s := &Stages{}
	for i, in := range stageInfo {
		s.h[i] = prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "parley", Subsystem: "stage", Name: in.name + "_seconds", Help: in.help, Buckets: Buckets,
		})
	}
	return s
}

// Collectors returns the histograms, to register with a registry.
func (s *Stages) Collectors() []prometheus.Collector {
	cs := make([]prometheus.Collector, len(s.h))
	for i, h := range s.h {
		cs[i] = h
	}
	return cs
}

// start is the origin of the stamps: a stamp is the time since it, on
// the monotonic clock, plus one, so that a stamp is never zero.
var start = time.Now()

// Now returns a stamp of the time, or zero when s is nil (nothing is
// measured, so the clock is not read).
func (s *Stages) Now() int64 {
	if s == nil {
		return 0
	}
	return int64(time.Since(start)) + 1
}

// Observe records in stage st the time from the stamp since to now and
// returns now's stamp, the next stage's start; when s is nil or since is
// zero it records nothing and returns zero.
func (s *Stages) Observe(st Stage, since int64) int64 {
	if s == nil || since == 0 {
		return 0
	}
	now := s.Now()
	s.Set(st, since, now)
	return now
}

// Set records in stage st the time between the stamps from and to, unless
// s is nil or either is zero.
func (s *Stages) Set(st Stage, from, to int64) {
	if s == nil || from == 0 || to == 0 {
		return
	}
	s.h[st].Observe(float64(to-from) / 1e9)
}

// Count returns how many times stage st was observed.
func (s *Stages) Count(st Stage) uint64 {
	var m dto.Metric
	if s == nil || s.h[st].Write(&m) != nil {
		return 0
	}
	return m.GetHistogram().GetSampleCount()
}

// Names returns the stages' histogram names (parley_stage_<stage>_seconds),
// in a message's order.
func Names() []string {
	names := make([]string, numStages)
	for i, in := range stageInfo {
		names[i] = "parley_stage_" + in.name + "_seconds"
	}
	return names
}
