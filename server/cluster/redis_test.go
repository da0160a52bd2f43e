package cluster_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/testenv"
)

// TestRedisRestart: users on two nodes chat while Redis is killed and,
// later, started again (empty). Sending keeps working throughout; after
// recovery every client holds every message exactly once and in order,
// because the nodes backfill what the broker missed from the store.
// Presence comes back too.
func TestRedisRestart(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	const room = "relay"
	names := userNames("relay", 4)
	sessions := signupAll(t, c.baseURLs(), names)
	createRooms(t, c.nodes[0].URL, sessions[0].AccessToken, room)

	chatters := make([]*chatter, len(names))
	loaders := make([]*loader, len(names))
	for i, name := range names {
		chatters[i] = connect(t, c.nodes[i%2].WSURL(), name, sessions[i].AccessToken, chatOptions{})
		chatters[i].subscribe(room)
	}
	for i, ch := range chatters {
		loaders[i] = startLoader(t, ch, room, 100*time.Millisecond)
	}
	testenv.Eventually(t, waitTimeout, "chat flowing", func() error { return allHave(chatters, room, 20) })

	c.redis.Stop()
	t.Log("redis stopped")
	// Sends are still stored and acknowledged on both nodes meanwhile.
	acked := ackCounts(chatters)
	testenv.Eventually(t, waitTimeout, "sends acknowledged while redis is down", func() error {
		return ackedMore(chatters, acked, 10)
	})
	c.redis.Start()
	t.Log("redis started again")
	acked = ackCounts(chatters)
	testenv.Eventually(t, waitTimeout, "sends acknowledged after redis returned", func() error {
		return ackedMore(chatters, acked, 10)
	})

	total := 0
	for _, l := range loaders {
		n, err := l.stop()
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	checkComplete(t, chatters, room, total, chatters[0])
	everyone := slices.Sorted(slices.Values(names))
	testenv.Eventually(t, 4*(c.opts.presenceTTL+presenceSweepSlack), "presence restored after the redis restart", func() error {
		return samePresence(chatters, room, everyone)
	})
}

// ackCounts returns how many acks each chatter has had.
func ackCounts(chatters []*chatter) []int {
	out := make([]int, len(chatters))
	for i, ch := range chatters {
		ch.mu.Lock()
		out[i] = len(ch.acks)
		ch.mu.Unlock()
	}
	return out
}

// ackedMore reports an error until each chatter has had n acks more than
// in before.
func ackedMore(chatters []*chatter, before []int, n int) error {
	now := ackCounts(chatters)
	for i, ch := range chatters {
		if now[i] < before[i]+n {
			return fmt.Errorf("%s: %d acks since, want %d", ch.name, now[i]-before[i], n)
		}
	}
	return nil
}
