package redisstore_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/cloudrun-authn/pushgate/handlers/push"
	"github.com/cloudrun-authn/pushgate/handlers/push/redisstore"
)

// Wiring the shared store into a push handler when DEDUP_REDIS_URL is set.
// New makes no network call; the background Ping only reports early whether
// Redis answers.
func Example() {
	ctx := context.Background()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	opts := push.Options{Logger: logger}

	if url := os.Getenv("DEDUP_REDIS_URL"); url != "" {
		redisstore.RouteLibraryLogs(logger) // go-redis's own lines as JSON too
		store, err := redisstore.New(ctx, url, redisstore.Options{Logger: logger})
		if err != nil {
			logger.Error("DEDUP_REDIS_URL: " + err.Error())
			os.Exit(1)
		}
		defer store.Close()
		logger.Info("shared de-duplication store", "store", store) // password masked
		go func() {
			if err := store.Ping(ctx); err != nil {
				logger.Warn("de-duplication store not reachable yet", "error", err.Error())
			}
		}()
		opts.Store = store
	}

	http.Handle("POST /pubsub/push", push.NewHandler(func(ctx context.Context, m *push.Message) error {
		return nil // process m
	}, opts))
}
