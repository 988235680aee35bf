package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cloudrun-authn/pushgate/handlers/push"
	"github.com/redis/go-redis/v9"
)

// DefaultRetention is how long a done message ID is remembered when neither
// Done's retain nor Options.Retention says: 7 days, the longest time Pub/Sub
// keeps (and may redeliver) an unacknowledged message.
const DefaultRetention = 7 * 24 * time.Hour

// Options configures a Store. The zero value is usable.
type Options struct {
	// KeyPrefix is prepended to each message ID to form its key; "" means
	// DefaultKeyPrefix. Services sharing one Redis keep apart by prefix.
	KeyPrefix string
	// Retention is how long a done ID is remembered when Done is given no
	// retention; 0 means DefaultRetention.
	Retention time.Duration
	// Logger receives warnings about lapsed leases; nil discards them.
	Logger *slog.Logger
}

// Store is a push.Store in Redis, shared by every instance that uses the
// same Redis and key prefix. It is safe for concurrent use.
//
// A Store remembers, per message ID, the lease token of its own live claim,
// so that Done and Release act only on its own lease. It expects one claim
// of an ID at a time per Store, which the push handler guarantees by
// waiting for a local in-flight delivery of the same ID.
type Store struct {
	client    *redis.Client
	scripts   scripts
	addr      string
	redacted  string // the URL with its password masked
	tls       bool
	db        int
	poolSize  int
	password  string // only to scrub it from error text; never logged
	prefix    string
	retention time.Duration
	log       *slog.Logger
	now       func() time.Time

	leases leaseTable
}

var _ push.Store = (*Store)(nil)

// New returns a Store for the Redis at rawURL (redis://[:password@]host:port[/db]
// or rediss:// for TLS; go-redis query options such as ?pool_size=20 or
// ?dial_timeout=3s override the store's defaults). It makes no network call:
// connections are dialled on first use, so start-up never waits for Redis.
// Call Ping to check the connection, and Close when done.
func New(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	if opts.Retention < 0 {
		return nil, fmt.Errorf("redisstore: negative retention %s", opts.Retention)
	}
	ro, redacted, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{
		scripts:   newScripts(),
		addr:      ro.Addr,
		redacted:  redacted,
		tls:       ro.TLSConfig != nil,
		db:        ro.DB,
		poolSize:  ro.PoolSize,
		password:  ro.Password,
		prefix:    opts.KeyPrefix,
		retention: opts.Retention,
		log:       opts.Logger,
		now:       time.Now,
	}
	if s.prefix == "" {
		s.prefix = DefaultKeyPrefix
	}
	if s.retention == 0 {
		s.retention = DefaultRetention
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.client = redis.NewClient(ro)
	return s, nil
}

// Ping checks that Redis answers. Its error wraps push.ErrStoreUnavailable
// and says why, without the password.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return s.unavailable("ping", "", err)
	}
	return nil
}

// Close closes the connections. Calls after Close fail with an error
// wrapping push.ErrStoreUnavailable.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redisstore: close: %s", scrub(err.Error(), s.password))
	}
	return nil
}

// String returns the Redis URL with its password masked.
func (s *Store) String() string { return s.redacted }

// LogValue describes the store for slog without its password.
func (s *Store) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", s.redacted),
		slog.String("addr", s.addr),
		slog.Int("db", s.db),
		slog.Bool("tls", s.tls),
		slog.Int("pool_size", s.poolSize),
		slog.String("key_prefix", s.prefix),
		slog.Duration("retention", s.retention),
	)
}

// opContext bounds one store call, retries included, by opTimeout unless the
// caller's deadline is earlier.
func (s *Store) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= opTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, opTimeout)
}

// leaseTable maps each message ID this Store holds a claim on to its lease
// value, so Done and Release act on the Store's own lease only.
type leaseTable struct {
	mu      sync.Mutex
	m       map[string]heldLease
	sweepAt int
}

type heldLease struct {
	value string    // "leased:<token>"
	until time.Time // when Redis expires it
}

// minSweep is the table size at which expired entries are first swept.
const minSweep = 1024

// put records a claim. Entries are removed by Done and Release; entries left
// behind (a Done whose Redis call failed and was never retried) are dropped
// once their lease has expired, at the next put after the table doubles.
func (t *leaseTable) put(id string, l heldLease, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[string]heldLease)
	}
	t.m[id] = l
	if len(t.m) < max(t.sweepAt, minSweep) {
		return
	}
	for k, v := range t.m {
		if !v.until.After(now) {
			delete(t.m, k)
		}
	}
	t.sweepAt = 2 * len(t.m)
}

// get returns the lease value held for id, or "".
func (t *leaseTable) get(id string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id].value
}

// drop forgets id's lease if it is still value.
func (t *leaseTable) drop(id, value string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l, ok := t.m[id]; ok && l.value == value {
		delete(t.m, id)
	}
}

// len returns the number of held leases.
func (t *leaseTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
