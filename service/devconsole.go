package service

import (
	"log/slog"

	"github.com/cloudrun-authn/pushgate/service/devmode/console"
	"github.com/cloudrun-authn/pushgate/service/dispatch"
)

// How much of the recent past dev mode's console shows.
const (
	devRecentDeliveries = 100
	devRecentRefusals   = 50
)

// devConsole is what dev mode keeps for its console: the push loop's
// recent deliveries and the recent refusals.
type devConsole struct {
	deliveries *console.Recent[dispatch.Delivery]
	refusals   *console.Recent[console.Refusal]
	console    *console.Console
}

// startConsole sets up the console of d: the refusals that the
// authenticator logs through logger (and the console's own) are kept for
// it, so the authenticator gets the returned logger.
func (d *devStack) startConsole(logger *slog.Logger) *slog.Logger {
	c := &d.devConsole
	c.deliveries = console.NewRecent[dispatch.Delivery](devRecentDeliveries)
	c.refusals = console.NewRecent[console.Refusal](devRecentRefusals)
	teed := slog.New(console.TeeRefusals(logger.Handler(), c.refusals))
	c.console = console.New(console.Config{
		Origin:     d.audience,
		Keys:       d.keys,
		Deliveries: c.deliveries,
		Refusals:   c.refusals,
		Stats:      d.pushStats,
		Logger:     teed,
	})
	return teed
}

// pushStats returns the push loop's counters while it runs.
func (d *devStack) pushStats() (dispatch.Stats, bool) {
	d.mu.Lock()
	disp := d.disp
	d.mu.Unlock()
	if disp == nil {
		return dispatch.Stats{}, false
	}
	return disp.Stats(), true
}
