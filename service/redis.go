package service

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cloudrun-authn/pushgate/handlers/push"
	"github.com/cloudrun-authn/pushgate/handlers/push/redisstore"
)

// redisDedupStore opens the shared store of DEDUP_REDIS_URL. Opening makes
// no network call; a background ping only tells the operator early whether
// Redis answers. While it does not, push deliveries get 503 and Pub/Sub
// delivers them again later.
func redisDedupStore(ctx context.Context, cfg Config, logger *slog.Logger) (push.Store, func(), error) {
	store, err := redisstore.New(ctx, string(cfg.DedupRedisURL), redisstore.Options{Logger: logger})
	if err != nil {
		return nil, nil, fmt.Errorf("service: DEDUP_REDIS_URL: %w", err)
	}
	go func() {
		if err := store.Ping(ctx); err != nil {
			logger.Warn("de-duplication store not reachable yet; push deliveries get 503 until it is",
				"store", store, "error", err.Error())
		}
	}()
	closeStore := func() {
		if err := store.Close(); err != nil {
			logger.Warn("closing the de-duplication store", "error", err.Error())
		}
	}
	return store, closeStore, nil
}
