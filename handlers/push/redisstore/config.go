package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Connection defaults, applied when the URL does not set the matching query
// parameter (dial_timeout, read_timeout, pool_size, …). They suit a Cloud Run
// instance talking to Memorystore in the same region, where a round trip
// takes well under a millisecond, and Pub/Sub's default ack deadline of 10 s.
const (
	// dialTimeout bounds one TCP (and TLS) connect. Memorystore answers in
	// milliseconds; 2 s is generous for a TLS handshake yet fails fast enough
	// that the push handler can still answer 503 well inside the deadline.
	dialTimeout = 2 * time.Second
	// dialRetries is the number of dials per new connection (go-redis
	// default: 5 with 100 ms pauses, up to 10 s against a black hole).
	dialRetries = 2
	// ioTimeout bounds one read or write. Each command is a tiny Lua script;
	// a reply slower than 1 s means Redis is stalled (failover, overload).
	ioTimeout = time.Second
	// poolTimeout bounds the wait for a free connection when all are busy.
	poolTimeout = time.Second
	// maxRetries re-sends a command on a fresh connection after a network
	// error (a connection Memorystore closed during maintenance). Every
	// script is safe to run twice: see Store.Claim.
	maxRetries = 2
	// connMaxIdleTime closes pooled connections idle this long, below the
	// 10 minutes after which Google Cloud's connection tracking (VPC
	// firewall, Direct VPC egress, connectors) may silently drop an idle TCP
	// connection.
	connMaxIdleTime = 5 * time.Minute
	// opTimeout caps a whole store call, retries included, when the caller's
	// context has no earlier deadline.
	opTimeout = 3 * time.Second
	// clientName is shown by CLIENT LIST, so an operator can tell the
	// store's connections apart.
	clientName = "pushgate-dedup"
)

// poolSize is the number of connections per instance: 2 × GOMAXPROCS + 4.
// A store call holds a connection for one round trip (well under 1 ms in
// region), so even 6 connections (1 vCPU) carry thousands of calls a second,
// more than the instance's CPU can feed; a burst of 80 concurrent requests
// (Cloud Run's default concurrency) waits microseconds for a connection rather
// than opening 80. Fewer connections also keep the total across many
// instances far below Memorystore's client limit, and make go-redis's dial
// circuit breaker (it stops dialling after PoolSize failed dials in a row and
// fails at once, probing once a second) trip quickly when Redis is down, so
// deliveries get their 503 at once instead of after a dial timeout.
func poolSize() int { return 2*runtime.GOMAXPROCS(0) + 4 }

// parseURL parses a redis:// or rediss:// URL into client options with the
// store's defaults filled in, and returns the URL with its password masked.
// No error it returns contains the password.
func parseURL(raw string) (*redis.Options, string, error) {
	if raw == "" {
		return nil, "", errors.New("redisstore: empty Redis URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, password included, and its inner error
		// can quote part of it: say what is wrong without either.
		return nil, "", errors.New("redisstore: the Redis URL does not parse as a URL " +
			"(a password with special characters must be percent-encoded)")
	}
	redacted := u.Redacted()
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, "", fmt.Errorf("redisstore: Redis URL scheme %q: want redis:// or rediss://", u.Scheme)
	}
	if u.User != nil {
		if _, ok := u.User.Password(); !ok {
			// redis://secret@host: the secret would be sent as a user name
			// and printed in logs as one.
			return nil, "", errors.New("redisstore: the Redis URL has a user but no password; " +
				"for a password-only Redis (Memorystore AUTH) write redis://:PASSWORD@host:port")
		}
	}
	if u.Hostname() == "" {
		return nil, "", fmt.Errorf("redisstore: Redis URL %s has no host", redacted)
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		// go-redis's messages name the bad part (scheme, database, option),
		// never the password; scrub anyway in case that changes.
		return nil, "", fmt.Errorf("redisstore: Redis URL %s: %s", redacted, scrub(err.Error(), passwordOf(u)))
	}
	applyDefaults(opt)
	return opt, redacted, nil
}

// passwordOf returns the URL's password, or "" when it has none.
func passwordOf(u *url.URL) string {
	if u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// applyDefaults fills in the store's connection settings wherever the URL
// left the go-redis option unset (zero).
func applyDefaults(opt *redis.Options) {
	setDefault(&opt.DialTimeout, dialTimeout)
	setDefault(&opt.ReadTimeout, ioTimeout)
	setDefault(&opt.WriteTimeout, ioTimeout)
	setDefault(&opt.PoolTimeout, poolTimeout)
	setDefault(&opt.ConnMaxIdleTime, connMaxIdleTime)
	setDefault(&opt.PoolSize, poolSize())
	setDefault(&opt.MaxRetries, maxRetries)
	setDefault(&opt.DialerRetries, dialRetries)
	setDefault(&opt.ClientName, clientName)
	// The caller's deadline (the push handler's) bounds every command too.
	opt.ContextTimeoutEnabled = true
	// The store sends single commands, never pipelines: skip the dedicated
	// pipeline pool unless the URL asks for one.
	setDefault(&opt.PipelinePoolSize, -1)
	// Memorystore sends no maintenance notifications; asking for them costs
	// a command on every new connection.
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
