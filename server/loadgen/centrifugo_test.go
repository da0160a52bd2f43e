package loadgen

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// recorded is one WebSocket message a Centrifugo v6.9.1 node sent, as
// testdata/centrifugo-frames.jsonl holds them: recorded from two nodes
// with the Redis engine and the benchmark's namespace (history on),
// client A on the first node and B on the second. A connects and
// subscribes, publishes offset 1, which both see; B goes away; A
// publishes offsets 2 to 6; B comes back and recovers them from offset 1,
// then publishes to a channel outside the namespace; then B's first
// ping.
type recorded struct {
	What string `json:"what"`
	Msg  string `json:"msg"`
}

func loadRecorded(t testing.TB) []recorded {
	t.Helper()
	f, err := os.Open("testdata/centrifugo-frames.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []recorded
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r recorded
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// recordedChannel is the channel of the recorded run, from its first push.
func recordedChannel(t *testing.T, frames []recorded) string {
	for _, f := range frames {
		if r, err := decodeReply([]byte(f.Msg)); err == nil && r.Push != nil {
			return r.Push.Channel
		}
	}
	t.Fatal("no push recorded")
	return ""
}

func cfMember(channel string) *member {
	return newMember(ClientSpec{Room: channel, Target: TargetCentrifugo}, "rcap")
}

// feed hands m the recorded messages of the given indexes and counts the
// pings among them.
func feed(m *member, frames []recorded, idx ...int) (pings int) {
	for _, i := range idx {
		for r, rest := nextReply([]byte(frames[i].Msg)); r != nil; r, rest = nextReply(rest) {
			if m.cfHandle(r, time.Now().UnixNano()) {
				pings++
			}
		}
	}
	return pings
}

// TestCentrifugoRecordedRun: the recorded replies count as the run
// happened: A has offsets 1 to 6 by push and its publish acked; B has 1
// by push and 2 to 6 by recovery, no duplicates, its refused publish
// counted, and the ping seen.
func TestCentrifugoRecordedRun(t *testing.T) {
	frames := loadRecorded(t)
	if len(frames) != 21 {
		t.Fatalf("%d recorded messages, want 21", len(frames))
	}
	ch := recordedChannel(t, frames)
	a, b := cfMember(ch), cfMember(ch)
	a.pending = []outgoing{{cid: "3"}}
	b.pending = []outgoing{{cid: "3"}}

	feed(a, frames, 2)
	select {
	case <-a.subscribed:
	default:
		t.Fatal("subscribe reply did not subscribe")
	}
	if a.epoch != "ZuyMZiGv" {
		t.Errorf("epoch = %q", a.epoch)
	}
	feed(a, frames, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
	if a.got.Load() != 6 || a.acked.Load() != 1 || a.errs.Load() != 0 || a.dups.Load() != 0 {
		t.Errorf("A: got %d acked %d errs %d dups %d; want 6, 1, 0, 0", a.got.Load(), a.acked.Load(), a.errs.Load(), a.dups.Load())
	}
	if a.lat.N != 6 {
		t.Errorf("A: %d latencies, want 6", a.lat.N)
	}
	if a.decoded.Load() != 7 {
		t.Errorf("A: %d replies decoded in full, want 7 (the pushes scanned)", a.decoded.Load())
	}

	feed(b, frames, 3, 6)
	if b.got.Load() != 1 || b.last != 1 {
		t.Fatalf("B before it went away: got %d, last %d", b.got.Load(), b.last)
	}
	feed(b, frames, 18)
	if b.got.Load() != 6 || b.last != 6 || b.dups.Load() != 0 || b.disorder.Load() != 0 {
		t.Errorf("B after recovery: got %d last %d dups %d disorder %d; want 6, 6, 0, 0", b.got.Load(), b.last, b.dups.Load(), b.disorder.Load())
	}
	feed(b, frames, 6)
	if b.dups.Load() != 1 {
		t.Errorf("B: a push seen twice counts %d duplicates, want 1", b.dups.Load())
	}
	feed(b, frames, 19)
	if b.refused.Load() != 1 || b.errs.Load() != 1 || b.unanswered() != 0 {
		t.Errorf("B: refused %d errs %d unanswered %d; want 1, 1, 0", b.refused.Load(), b.errs.Load(), b.unanswered())
	}
	if pings := feed(b, frames, 20); pings != 1 {
		t.Errorf("ping seen %d times, want 1", pings)
	}
}

// TestCentrifugoConnectReply: the recorded connect reply decodes with the
// ping interval the node announced.
func TestCentrifugoConnectReply(t *testing.T) {
	r, err := decodeReply([]byte(loadRecorded(t)[0].Msg))
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != 1 || r.Connect == nil || r.Connect.Client == "" || r.Connect.Ping != 25 || !r.Connect.Pong {
		t.Fatalf("connect reply: %+v %+v", r, r.Connect)
	}
}

// TestNextReplySplitsLines: replies are split at newlines, empty lines
// skipped; a message of one reply is that reply.
func TestNextReplySplitsLines(t *testing.T) {
	var want []string
	for _, f := range loadRecorded(t) {
		want = append(want, f.Msg)
	}
	msg := strings.Join(want, "\n") + "\n\n"
	var got []string
	for r, rest := nextReply([]byte(msg)); r != nil; r, rest = nextReply(rest) {
		got = append(got, string(r))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("split into %d replies, want %d", len(got), len(want))
	}
}

// TestPublishCommandCarriesTheBody: a publish command is the JSON
// Centrifugo reads, its data the body as a JSON string, which a push
// gives back as it was.
func TestPublishCommandCarriesTheBody(t *testing.T) {
	b := body("r1", 3, 7, time.Unix(0, 42))
	cmd, err := publishCommand(9, "bench:r1-0", b)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID      uint32 `json:"id"`
		Publish struct {
			Channel string `json:"channel"`
			Data    string `json:"data"`
		} `json:"publish"`
	}
	if err := json.Unmarshal(cmd, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != 9 || got.Publish.Channel != "bench:r1-0" || got.Publish.Data != b {
		t.Fatalf("publish command %s", cmd)
	}
	data, _ := json.Marshal(b)
	if s, ok := stringData(data); !ok || string(s) != b {
		t.Fatalf("stringData(%s) = %q, %v", data, s, ok)
	}
	for _, bad := range []string{`{"a":1}`, `"x\"y"`, `"`, `12`} {
		if _, ok := stringData([]byte(bad)); ok {
			t.Errorf("stringData(%s) accepted", bad)
		}
	}
}

// TestCentrifugoToken: the token is HS256 over the secret with the user
// as subject, which is what Centrifugo's hmac_secret_key checks.
func TestCentrifugoToken(t *testing.T) {
	secret := []byte("s3cret")
	tok, err := centrifugoToken(secret, "bench7", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.RegisteredClaims
	_, err = jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return secret, nil }, jwt.WithValidMethods([]string{"HS256"}))
	if err != nil || claims.Subject != "bench7" {
		t.Fatalf("token %s: %v, sub %q", tok, err, claims.Subject)
	}
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte("other"), nil }); err == nil {
		t.Fatal("token verifies with another secret")
	}
}

// FuzzCentrifugoReplies: whatever a node sends, splitting never yields an
// empty reply or one with a newline, and handling one never panics.
func FuzzCentrifugoReplies(f *testing.F) {
	for _, r := range loadRecorded(f) {
		f.Add([]byte(r.Msg))
	}
	f.Add([]byte("{}\n{\"push\":{\"channel\":\"c\",\"pub\":{\"data\":\"rcap x\",\"offset\":3}}}\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		m := cfMember("c")
		n := 0
		for r, rest := nextReply(msg); r != nil; r, rest = nextReply(rest) {
			if len(r) == 0 || strings.Contains(string(r), "\n") {
				t.Fatalf("reply %q", r)
			}
			if n++; n > len(msg) {
				t.Fatal("more replies than bytes")
			}
			m.cfHandle(r, 1)
		}
	})
}

// TestScanPushReadsRecordedPushes: every push the nodes sent is scanned,
// not decoded, and reads as the full decode does.
func TestScanPushReadsRecordedPushes(t *testing.T) {
	pushes := 0
	for _, f := range loadRecorded(t) {
		r, err := decodeReply([]byte(f.Msg))
		if err != nil || r.Push == nil {
			continue
		}
		pushes++
		checkScan(t, []byte(f.Msg), true)
	}
	if pushes != 7 {
		t.Fatalf("%d pushes recorded, want 7", pushes)
	}
	for _, bad := range []string{
		`{"push":{"channel":"c","pub":{"data":{"a":1},"offset":1}}}`,
		`{"push":{"channel":"c","pub":{"data":"x\"y","offset":1}}}`,
		`{"push":{"channel":"c","pub":{"data":"x","offset":01}}}`,
		`{"push":{"channel":"c","pub":{"data":"x","offset":1},"x":1}}`,
	} {
		if _, _, _, ok := scanPush([]byte(bad)); ok {
			t.Errorf("scanPush accepted %s", bad)
		}
	}
}

// checkScan holds scanPush to decodeReply: what it accepts decodes to the
// same channel, offset and body.
func checkScan(t *testing.T, b []byte, mustScan bool) {
	t.Helper()
	ch, data, off, ok := scanPush(b)
	if !ok {
		if mustScan {
			t.Errorf("not scanned: %s", b)
		}
		return
	}
	r, err := decodeReply(b)
	if err != nil || r.Push == nil || r.Push.Pub == nil {
		t.Fatalf("scanned but does not decode as a push (%v): %s", err, b)
	}
	body, sok := stringData(r.Push.Pub.Data)
	if r.Push.Channel != string(ch) || r.Push.Pub.Offset != uint64(off) || !sok || string(body) != string(data) {
		t.Fatalf("scanned %q %d %q, decoded %q %d %s: %s", ch, off, data, r.Push.Channel, r.Push.Pub.Offset, r.Push.Pub.Data, b)
	}
}

// FuzzScanPush: whatever scanPush accepts, decodeReply reads the same.
func FuzzScanPush(f *testing.F) {
	for _, r := range loadRecorded(f) {
		f.Add([]byte(r.Msg))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkScan(t, b, false) })
}

// TestCentrifugoTargetOptions: the Centrifugo target needs the nodes'
// secret, not Parley's keys; its clients dial Centrifugo's WebSocket
// path, subscribe to the run's channels in the bench namespace (made by
// nobody: a channel exists once subscribed) and carry tokens the secret
// verifies.
func TestCentrifugoTargetOptions(t *testing.T) {
	o := Options{Shape: ShapeIdle, Nodes: []string{"http://127.0.0.1:1", "http://127.0.0.1:2"}, Clients: 4, Rooms: 2, Target: TargetCentrifugo, Exe: "parley"}
	if err := o.check(); err == nil || !strings.Contains(err.Error(), "--centrifugo-secret") {
		t.Fatalf("check without a secret: %v", err)
	}
	o.Secret = []byte("s3cret")
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	rooms, err := o.createRooms(t.Context(), "r1")
	if err != nil || !slices.Equal(rooms, []string{"bench:r1-0", "bench:r1-1"}) {
		t.Fatalf("rooms %v, %v", rooms, err)
	}
	specs, err := o.specs("r1", rooms)
	if err != nil {
		t.Fatal(err)
	}
	c := specs[0].Clients[1]
	if c.URL != "ws://127.0.0.1:2/connection/websocket" || c.Target != TargetCentrifugo || c.Room != "bench:r1-1" {
		t.Fatalf("client 1: %+v", c)
	}
	var claims jwt.RegisteredClaims
	if _, err := jwt.ParseWithClaims(c.Token, &claims, func(*jwt.Token) (any, error) { return o.Secret, nil }); err != nil || claims.Subject != "bench1" {
		t.Fatalf("client 1's token: %v, sub %q", err, claims.Subject)
	}
	o.Target = "nats"
	if err := o.check(); err == nil {
		t.Fatal("an unknown target passed the check")
	}
}
