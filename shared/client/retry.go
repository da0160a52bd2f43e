package client

import (
	"time"
)

// A node that cannot serve a room right now (its database is down, it is
// overloaded) answers a subscribe or a gap fetch with a retryable error
// (unavailable, rate_limited, internal_error). The client never gives up
// on such a room and never skips such a gap: it marks the request for a
// retry with backoff and full jitter, from Config.MinBackoff up to
// Config.RoomRetry (or the node's retry_after when longer), and the writer
// resends it when it is due, on the same connection. A new connection
// resubscribes every room anyway, so the retries of the old one are
// dropped. Only a permanent refusal (not_found, forbidden, bad_request…)
// ends a subscription attempt or skips a gap (EventError, EventGap).

// retryLater records one more refusal of rs and returns the wait before the
// next try. Callers hold mu.
func (c *Client) retryLater(rs *roomState, se *ServerError) time.Duration {
	d := max(Backoff(rs.retries, c.cfg.MinBackoff, c.cfg.RoomRetry), se.RetryAfter)
	rs.retries++
	c.retrying[rs.name] = struct{}{}
	return d
}

// subscribeRefused handles a retryable error frame that answers the
// subscribe in flight for rs: the subscribe is resent later. Callers hold
// mu.
func (c *Client) subscribeRefused(rs *roomState, se *ServerError, now time.Time) Event {
	rs.subscribing = false
	d := c.retryLater(rs, se)
	rs.resubAt = now.Add(d)
	return Event{Kind: EventRoomRetry, Room: rs.name, Err: se, Retry: d}
}

// gapRefused handles a retryable error frame that answers rs's gap fetch:
// the gap stays open and is fetched again later. Callers hold mu.
func (c *Client) gapRefused(rs *roomState, se *ServerError, now time.Time) Event {
	rs.gapID = ""
	d := c.retryLater(rs, se)
	rs.gapAt = now.Add(d)
	return Event{Kind: EventRoomRetry, Room: rs.name, Err: se, Retry: d}
}

// dueRooms resends, on cn, every refused subscribe and gap fetch whose time
// has come, and returns how long until the next one is due (0: none
// waits). The writer calls it.
func (c *Client) dueRooms(cn *conn, now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != cn {
		return 0
	}
	var next time.Duration
	for name := range c.retrying {
		rs := c.rooms[name]
		if rs == nil {
			delete(c.retrying, name)
			continue
		}
		if !rs.resubAt.IsZero() && !now.Before(rs.resubAt) {
			rs.resubAt = time.Time{}
			rs.subscribing = true
			cn.enqueue(subscribeFrame(name, rs.last), false)
		}
		if !rs.gapAt.IsZero() && !now.Before(rs.gapAt) {
			rs.gapAt = time.Time{}
			if rs.gapID == "" && rs.gapTop() > rs.last+1 {
				c.fetchGap(cn, rs)
			}
		}
		at, waits := rs.retryDue()
		if !waits {
			delete(c.retrying, name)
			continue
		}
		if d := at.Sub(now); next == 0 || d < next {
			next = max(d, time.Millisecond)
		}
	}
	return next
}
