package redisstore

import "github.com/redis/go-redis/v9"

// Values stored under a message's key.
const (
	doneValue   = "done"
	leasePrefix = "leased:"
)

// claimScript takes the key for ARGV[1] (our lease value) for ARGV[2]
// milliseconds if it is free, and answers 1; if the key exists it is left
// alone and its value is returned, so the caller learns "done" or "in
// progress" in the same round trip.
//
// KEYS[1] key; ARGV[1] "leased:<token>"; ARGV[2] lease in milliseconds.
const claimScript = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return redis.call('GET', KEYS[1])
`

// doneScript marks the key done for ARGV[2] milliseconds whatever it held,
// and reports what it held, so that the caller can log a lapsed lease:
// 0 our lease; 1 nothing (our lease lapsed); 2 already done; 3 another lease.
//
// KEYS[1] key; ARGV[1] our lease value ("" if we hold none); ARGV[2] retention
// in milliseconds.
const doneScript = `
local v = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
if v == ARGV[1] then return 0 end
if not v then return 1 end
if v == 'done' then return 2 end
return 3
`

// releaseScript deletes the key only while it holds our lease (compare and
// delete), so it never removes another delivery's lease or a done mark.
// It answers 1 when it deleted the key, else 0.
//
// KEYS[1] key; ARGV[1] our lease value.
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`

// Outcomes of doneScript.
const (
	doneHeld        = 0
	doneLapsed      = 1
	doneAlreadyDone = 2
	doneOtherLease  = 3
)

// scripts holds the store's Lua scripts. Script.Run sends EVALSHA and falls
// back to EVAL when Redis does not know the script (after a restart or a
// failover), so no SCRIPT LOAD is needed at start-up.
type scripts struct {
	claim, done, release *redis.Script
}

func newScripts() scripts {
	return scripts{
		claim:   redis.NewScript(claimScript),
		done:    redis.NewScript(doneScript),
		release: redis.NewScript(releaseScript),
	}
}
