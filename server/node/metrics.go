package node

import (
	"net/http"

	"github.com/parleychat/parley/app"
	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/budget"
	"github.com/parleychat/parley/server/ws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// loopbackOnly answers 404 unless the request comes straight from this
// machine: its peer is a loopback address and it names no client it was
// forwarded for (a reverse proxy on the same machine connects from
// loopback too, and sets those headers; the shipped nginx config also
// refuses /metrics itself).
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forwarded := r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-IP") != ""
		if peer := remoteAddr(r.RemoteAddr); !peer.IsLoopback() || forwarded {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsHandler exposes the node's counters in the Prometheus text format
// (prometheus/client_golang, the de-facto standard). The values are read
// from the components' own counters when scraped, so nothing on the hot
// path changes for metrics.
func (n *Node) metricsHandler(web *app.Handler) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(n.stages.Collectors()...)
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "parley", Name: name, Help: help}, f))
	}
	counter := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "parley", Name: name, Help: help}, f))
	}
	gauge("connections", "Open WebSocket connections.", func() float64 { return float64(n.ws.Count()) })
	gauge("active_rooms", "Rooms with subscribers on this node.", func() float64 { return float64(n.hub.Rooms()) })
	gauge("ready", "1 while the node accepts clients, 0 while draining.", func() float64 {
		if n.ready.Load() {
			return 1
		}
		return 0
	})
	for kind, name := range map[int]string{ws.RefusedPerAddr: "per_addr", ws.RefusedUnauthPerAddr: "unauth_per_addr", ws.RefusedPerUser: "per_user"} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "parley", Name: "connections_refused_total",
			Help:        "WebSocket connections refused by a connection cap.",
			ConstLabels: prometheus.Labels{"cap": name},
		}, func() float64 { return float64(n.ws.Refused()[kind]) }))
	}
	counter("publish_failures_total", "Broker publishes that failed (delivered locally instead).", func() float64 { return float64(n.hub.Stats().PublishFailures) })
	counter("broker_interruptions_total", "Broker interruptions reported to the hub.", func() float64 { return float64(n.hub.Stats().Interruptions) })
	counter("backfilled_messages_total", "Messages read from the store to fill delivery gaps.", func() float64 { return float64(n.hub.Stats().Backfilled) })
	counter("backfill_failures_total", "Store reads for a delivery gap that failed; the room holds back newer messages until a retry fills the gap.", func() float64 { return float64(n.hub.Stats().BackfillFailures) })
	counter("broker_beyond_head_total", "Broker messages dropped because their offset was above the store's head (forged or corrupt).", func() float64 { return float64(n.hub.Stats().BeyondHead) })
	counter("room_inbox_overflows_total", "Room inbox overflows (recovered from the store).", func() float64 { return float64(n.hub.Stats().Overflows) })
	counter("slow_clients_closed_total", "Clients closed for not keeping up.", func() float64 { return float64(n.hub.Stats().SlowClosed) })
	counter("subscriptions_removed_total", "Subscriptions ended because their user lost the room's membership (kick, ban, leave).", func() float64 { return float64(n.hub.Stats().Removed) })
	if rb, ok := n.budget.(*budget.Redis); ok {
		counter("send_budget_local_total", "Sends taken from this node's own budget because Redis did not answer.", func() float64 { return float64(rb.Fallbacks()) })
	}
	if rb, ok := n.backoff.(*budget.RedisBackoff); ok {
		counter("login_backoff_local_total", "Login backoff checks answered by this node alone because Redis did not answer.", func() float64 { return float64(rb.Fallbacks()) })
	}
	counter("app_wasm_requests_total", "Requests for app.wasm (a browser's download of the app, or a revalidation of it).", func() float64 { return float64(web.WasmRequests()) })
	gauge("password_hashes_running", "Password hashes running now.", func() float64 { r, _ := n.auth.HashLoad(); return float64(r) })
	gauge("password_hashes_waiting", "Password hashes waiting for a worker now (beyond --hash-queue: 503).", func() float64 { _, w := n.auth.HashLoad(); return float64(w) })
	b := n.broker
	if sb, ok := b.(*broker.Signed); ok {
		counter("broker_unauthenticated_total", "Broker payloads dropped because their cluster MAC did not verify (forged, or a node with another --cluster-key).", func() float64 { return float64(sb.Dropped()) })
		b = sb.Unwrap()
	}
	if rb, ok := b.(*broker.Redis); ok {
		counter("redis_published_total", "Payloads published to Redis.", func() float64 { return float64(rb.Stats().Published) })
		counter("redis_publish_errors_total", "Failed Redis publishes.", func() float64 { return float64(rb.Stats().PublishErrors) })
		counter("redis_delivered_total", "Payloads received from Redis.", func() float64 { return float64(rb.Stats().Delivered) })
		counter("redis_receive_errors_total", "Failed reads of the Redis pub/sub connection.", func() float64 { return float64(rb.Stats().ReceiveErrors) })
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
