// Command pushgate is the reference service of the pushgate framework: a
// Cloud Run service called by Pub/Sub push, Cloud Scheduler and people
// signed in with Clerk, each verified by one combined authenticator.
//
// With no auth provider configured it runs in dev mode: see README.md.
package main

import (
	"context"
	"os"

	"github.com/cloudrun-authn/pushgate/service"
)

func main() {
	service.RouteLibraryLogs(os.Stderr)
	if err := service.Run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		os.Exit(service.ExitCode(err))
	}
}
