// Package cluster holds Parley's black-box multi-node tests and its
// cluster benchmark. It has no code of its own: its tests build the parley
// binary once, start several node processes sharing a throwaway Redis and
// PostgreSQL, and drive them only through the HTTP API and the WebSocket
// protocol, exactly as a third-party client would. One test puts Debian's
// nginx, configured from build/nginx/parley.conf, in front of the nodes.
//
// Run them with
//
//	go test -race -count=1 ./server/cluster/...
//
// and the benchmarks with
//
//	go test -run '^$' -bench . -count=1 ./server/cluster/...
//
// BenchmarkClusterFanout reports cross-node latency and throughput with 1000
// clients over 3 nodes; BenchmarkIdleConnections reports one node's memory
// per idle, subscribed connection (5000 of them), read from its /metrics.
//
// When the tests run with -race, the nodes are built with -race too and a
// data race reported by any node fails the test that ran it.
package cluster
