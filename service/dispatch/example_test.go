package dispatch_test

import (
	"context"
	"log"
	"log/slog"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cloudrun-authn/pushgate/service/dispatch"
)

// ExampleNew delivers the messages of a subscription on an in-process pstest
// server to a local push endpoint, as dev mode does. Against the emulator,
// pubsub.NewClient alone suffices: it follows PUBSUB_EMULATOR_HOST.
func ExampleNew() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	srv := pstest.NewServer() // topic and subscription created elsewhere
	defer srv.Close()
	conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client, err := pubsub.NewClient(ctx, "local-dev", option.WithGRPCConn(conn))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	// mint signs a Google-shaped ID token for the audience; in dev mode it
	// is backed by the local key (see authn/mint).
	mint := func(ctx context.Context, audience string) (string, error) { return "…", nil }

	d, err := dispatch.New(dispatch.Config{
		Subscriber:  client.Subscriber("events-push"),
		Endpoint:    "http://127.0.0.1:8080/pubsub/push",
		Audience:    "http://127.0.0.1:8080",
		Tokens:      dispatch.CachedTokenSource(mint, 50*time.Minute),
		MinBackoff:  100 * time.Millisecond, // quick retries on a laptop
		MaxBackoff:  5 * time.Second,
		MaxAttempts: 5,
		Logger:      slog.Default(),
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := d.Run(ctx); err != nil { // until ctx ends
		log.Print(err)
	}
}
