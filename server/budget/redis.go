package budget

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Budget shared by every node through Redis.
type Redis struct {
	*remote
	args  []any // the script's limit arguments, formatted once
	local *Memory
}

var _ Budget = (*Redis)(nil)

// NewRedis returns a Redis budget with o.Limits. It does not dial: the
// first Take does.
func NewRedis(o RedisOptions) (*Redis, error) {
	r, err := newRemote(&o, "send budget")
	if err != nil {
		return nil, err
	}
	p := o.Limits.params()
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return &Redis{
		remote: r,
		args:   []any{f(p.msgInterval), f(p.msgTolerance), f(p.byteInterval), f(p.byteTolerance)},
		local:  NewMemory(o.Limits, o.Now),
	}, nil
}

// takeScript is params.take in Lua, on the Redis server's clock. KEYS[1]
// is the user's hash (fields m and b: arrival times in µs); ARGV are the
// message interval and tolerance, the byte interval and tolerance, and the
// send's bytes. It returns 0 when it took the send, else the wait in µs.
// The key expires when both arrival times have passed: a budget that full
// is the same as none.
var takeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local v = redis.call('HMGET', KEYS[1], 'm', 'b')
local m = math.max(tonumber(v[1]) or now, now) + tonumber(ARGV[1])
local b = math.max(tonumber(v[2]) or now, now) + tonumber(ARGV[5]) * tonumber(ARGV[3])
local wait = math.max(m - now - tonumber(ARGV[2]), b - now - tonumber(ARGV[4]))
if wait > 0 then
  return math.max(1, math.ceil(wait))
end
m, b = math.ceil(m), math.ceil(b)
redis.call('HSET', KEYS[1], 'm', m, 'b', b)
redis.call('PEXPIRE', KEYS[1], math.ceil((math.max(m, b) - now) / 1000) + 1)
return 0
`)

// takeAllScript is takeScript for several sends in order (ARGV[5]…
// their bytes), stopping at the first that does not fit. It returns how
// many it took and the wait in µs for the next (0 when it took all).
var takeAllScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local v = redis.call('HMGET', KEYS[1], 'm', 'b')
local m, b = tonumber(v[1]) or now, tonumber(v[2]) or now
local taken, wait = 0, 0
for i = 5, #ARGV do
  local nm = math.max(m, now) + tonumber(ARGV[1])
  local nb = math.max(b, now) + tonumber(ARGV[i]) * tonumber(ARGV[3])
  local w = math.max(nm - now - tonumber(ARGV[2]), nb - now - tonumber(ARGV[4]))
  if w > 0 then
    wait = math.max(1, math.ceil(w))
    break
  end
  m, b = math.ceil(nm), math.ceil(nb)
  taken = taken + 1
end
if taken > 0 then
  redis.call('HSET', KEYS[1], 'm', m, 'b', b)
  redis.call('PEXPIRE', KEYS[1], math.ceil((math.max(m, b) - now) / 1000) + 1)
end
return {taken, wait}
`)

// returnScript is params.give in Lua: KEYS[1] as in takeScript; ARGV
// are the message interval, the byte interval, how many messages and
// their bytes. A budget whose arrival times are then both past is
// deleted (full); a missing one is full already. It returns 0.
var returnScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'm', 'b')
if not v[1] or not v[2] then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local m = math.floor(tonumber(v[1]) - tonumber(ARGV[3]) * tonumber(ARGV[1]))
local b = math.floor(tonumber(v[2]) - tonumber(ARGV[4]) * tonumber(ARGV[2]))
if m <= now and b <= now then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('HSET', KEYS[1], 'm', m, 'b', b)
redis.call('PEXPIRE', KEYS[1], math.ceil((math.max(m, b) - now) / 1000) + 1)
return 0
`)

// Return implements Budget, in one script run; while Redis fails it
// returns them to this node's own budget (see Budget.Return for what
// that costs when Redis failed or recovered since the take).
func (r *Redis) Return(ctx context.Context, user string, sizes []int) {
	if len(sizes) == 0 {
		return
	}
	bytes := 0
	for _, n := range sizes {
		bytes += n
	}
	if _, ok := r.run(ctx, returnScript, "send:"+user, r.args[0], r.args[2], len(sizes), bytes); !ok {
		r.local.Return(ctx, user, sizes)
	}
}

// TakeAll implements Budget, in one script run; while Redis fails it
// takes from this node's own budget.
func (r *Redis) TakeAll(ctx context.Context, user string, sizes []int) (int, time.Duration) {
	args := append(make([]any, 0, len(r.args)+len(sizes)), r.args...)
	for _, n := range sizes {
		args = append(args, n)
	}
	res, ok := r.runAll(ctx, takeAllScript, "send:"+user, args...)
	if !ok || len(res) != 2 || res[0] < 0 || res[0] > int64(len(sizes)) {
		return r.local.TakeAll(ctx, user, sizes)
	}
	return int(res[0]), time.Duration(res[1]) * time.Microsecond
}

// Take implements Budget. While Redis fails it takes from this node's
// own budget (see the package doc).
func (r *Redis) Take(ctx context.Context, user string, n int) time.Duration {
	args := append(append(make([]any, 0, 5), r.args...), n)
	wait, ok := r.run(ctx, takeScript, "send:"+user, args...)
	if !ok {
		return r.local.Take(ctx, user, n)
	}
	return time.Duration(wait) * time.Microsecond
}
