package vendors

import (
	"context"
)

// Lister is implemented by the GroupClients of vendors whose API lists an
// account's groups. kubectl chatgroup export uses it to bring existing groups
// under management; a vendor without a listing exports only groups named by ID,
// read with Observe.
type Lister interface {
	// ListGroups reads every group of the account as Observe reads one (for
	// Registration.Export, Extra may carry more than Observe's does), in the
	// vendor's order, skipping groups that are being deleted. It calls progress
	// with the groups read so far and the total (0 while unknown).
	ListGroups(ctx context.Context, progress func(read, total int)) ([]ObservedGroup, error)
}
