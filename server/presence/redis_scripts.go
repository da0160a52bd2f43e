package presence

import "github.com/redis/go-redis/v9"

// The scripts read the clock of the Redis server, so that nodes whose
// clocks disagree still agree on who has expired. A room's entries are a
// sorted set: member "<node>\x00<user>", score = expiry in Unix ms.

// refreshScript writes entries with expiry now+TTL. KEYS are room keys;
// ARGV[1] is the TTL in ms, followed, for each key, by a member count
// and that many members. A key lives twice the TTL past its last
// refresh, so the rooms of a cluster that died entirely go away. It
// returns how many members it brought back: missing, or already expired
// (other nodes have reported them gone, though no sweep has deleted them
// yet: a node frozen just past the TTL).
var refreshScript = redis.NewScript(`
local t = redis.call('TIME')
local ttl = tonumber(ARGV[1])
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local expiry = now + ttl
local added, i = 0, 2
for _, key in ipairs(KEYS) do
  local n = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, n do
    local old = redis.call('ZSCORE', key, ARGV[i])
    if (not old) or tonumber(old) <= now then
      added = added + 1
    end
    redis.call('ZADD', key, expiry, ARGV[i])
    i = i + 1
  end
  if redis.call('PTTL', key) < 2 * ttl then
    redis.call('PEXPIRE', key, 2 * ttl)
  end
end
return added
`)

// usersScript returns the unexpired members of KEYS[1].
var usersScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], string.format('(%d', now), '+inf')
`)

// sweepScript returns, for each key of KEYS, its expired members, and
// deletes those expired more than ARGV[1] ms ago (two sweeps and a TTL). Keeping them that long
// lets every node with users in the room see them expire (and tell its
// clients) before one node deletes them.
var sweepScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local cutoff = string.format('(%d', now - tonumber(ARGV[1]))
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = redis.call('ZRANGEBYSCORE', key, '-inf', string.format('%d', now))
  redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
end
return out
`)
