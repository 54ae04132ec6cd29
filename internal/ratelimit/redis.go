package ratelimit

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Redis is the limiter every replica shares. The bucket is read, refilled
// and taken from in one Lua script, so concurrent requests on any replica
// never take the same token twice; Redis's clock is the only clock.
type Redis struct {
	client *redis.Client
	prefix string
}

// NewRedis returns a limiter on client; keys are prefixed with prefix.
func NewRedis(client *redis.Client, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// takeScript is take() in Lua. KEYS[1] the bucket; ARGV[1] per minute.
// It returns allowed (0/1), tokens left ×1000, and the time in µs.
var takeScript = redis.NewScript(`
local perMinute = tonumber(ARGV[1])
local rate = perMinute / 60000000 -- tokens a microsecond
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = perMinute
if state[1] then
  tokens = math.min(perMinute, tonumber(state[1]) + (now - tonumber(state[2])) * rate)
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 61000)
return {allowed, math.floor(tokens * 1000)}
`)

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, key string, perMinute int) (Decision, error) {
	res, err := takeScript.Run(ctx, r.client, []string{r.prefix + key}, perMinute).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("rate limit: %w", err)
	}
	tokens := float64(res[1]) / 1000
	rate := float64(perMinute) / 60
	d := Decision{Allowed: res[0] == 1, Limit: perMinute, Remaining: int(tokens), Reset: seconds((float64(perMinute) - tokens) / rate)}
	if !d.Allowed {
		d.RetryAfter = seconds((1 - tokens) / rate)
	}
	return d, nil
}
