package redisstore

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/cloudrun-authn/pushgate/handlers/push"
	"github.com/redis/go-redis/v9"
)

// UnavailableError is returned when Redis could not do what the store asked:
// it cannot be reached, did not answer in time, is loading, failing over,
// full or refuses the credentials. It wraps push.ErrStoreUnavailable, so the
// push handler answers 503 and Pub/Sub delivers the message again later.
type UnavailableError struct {
	// Op is the store operation: "claim", "done", "release" or "ping".
	Op string
	// ID is the message ID, empty for ping.
	ID string
	// Addr is Redis's host:port.
	Addr string
	// Reason says in words what went wrong, for an operator.
	Reason string
	// Err is go-redis's error, for errors.Is and errors.As.
	Err error

	// password is scrubbed from Error's text.
	password string
}

// Error returns "redisstore: <op> <id>: <reason>: <cause>", without the
// Redis password even if a cause were to quote it.
func (e *UnavailableError) Error() string {
	var b strings.Builder
	b.WriteString("redisstore: ")
	b.WriteString(e.Op)
	if e.ID != "" {
		b.WriteString(" ")
		b.WriteString(e.ID)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return scrub(b.String(), e.password)
}

// Unwrap returns push.ErrStoreUnavailable and the go-redis error.
func (e *UnavailableError) Unwrap() []error {
	return []error{push.ErrStoreUnavailable, e.Err}
}

// unavailable wraps an error from go-redis with a reason an operator can act
// on.
func (s *Store) unavailable(op, id string, err error) error {
	return &UnavailableError{
		Op: op, ID: id, Addr: s.addr,
		Reason:   reasonFor(err, s.addr, s.poolSize),
		Err:      err,
		password: s.password,
	}
}

// reasonFor names, in an operator's words, why a Redis call failed.
func reasonFor(err error, addr string, pool int) string {
	var opErr *net.OpError
	switch {
	case errors.Is(err, redis.ErrClosed):
		return "store closed (the service is shutting down)"
	case errors.Is(err, redis.ErrPoolTimeout):
		return "all " + strconv.Itoa(pool) + " connections to redis at " + addr + " stayed busy (redis slow or overloaded)"
	case errors.Is(err, context.Canceled):
		return "request cancelled while waiting for redis at " + addr
	case redis.IsLoadingError(err):
		return "redis at " + addr + " is loading its data set (restart or failover in progress)"
	case redis.IsReadOnlyError(err), redis.IsMasterDownError(err),
		redis.IsTryAgainError(err), redis.IsClusterDownError(err):
		return "redis at " + addr + " cannot take writes (failover in progress)"
	case redis.IsMaxClientsError(err):
		return "redis at " + addr + " refused the connection: max number of clients reached"
	case redis.IsAuthError(err):
		return "redis at " + addr + " rejected the credentials (check the password in the URL)"
	case redis.IsPermissionError(err):
		return "the redis user lacks a permission (needs EVAL, EVALSHA, GET, SET, DEL on the key prefix)"
	case redis.IsOOMError(err):
		return "redis at " + addr + " is out of memory (maxmemory reached)"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "redis unreachable at " + addr
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "redis at " + addr + " did not answer in time"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "redis at " + addr + " closed the connection"
	case isRedisError(err):
		return "redis at " + addr + " answered with an error"
	}
	return "redis unreachable at " + addr
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isRedisError(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}

// scrub replaces every occurrence of secret in s. An empty secret changes
// nothing.
func scrub(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "xxxxx")
}
