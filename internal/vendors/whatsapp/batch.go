package whatsapp

import (
	"context"
	"errors"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// batchSize is how many drift checks one ObserveBatch is given. CAMS has no
// read of several named groups: a batch lists the account's groups, a cost
// fixed per listing, so the larger the batch the cheaper each group.
const batchSize = 5000

// BatchSize implements vendors.BatchObserver.
func (c *Client) BatchSize() int { return batchSize }

// ObserveBatch implements vendors.BatchObserver. It pages through
// ListChatGroup (every group of the account, pageSize a page) for the items'
// groups; once the listing has cost as many calls as looking the remaining
// groups up by subject would, it looks those up instead. ListChatGroup carries
// no participants, so each group found live is then read with
// ListChatGroupParticipants, as Observe does: the vendor forces that call.
// A group not listed, or being deleted, is reported changed. A participants
// read that fails (after waiting out a few throttled answers) ends the batch
// with the answers given so far.
func (c *Client) ObserveBatch(ctx context.Context, items []vendors.BatchItem) ([]bool, error) {
	want := make(map[string]int, len(items))
	for i, it := range items {
		want[it.ID] = i
	}
	found := make(map[string]chatGroup, len(items))
	listed, stopped := 0, false
	err := c.scanGroups(ctx, "", func(g chatGroup) bool {
		listed++
		if _, ok := want[g.GroupID]; ok {
			found[g.GroupID] = g
		}
		if len(found) == len(items) {
			return true
		}
		// Past this, a subject lookup per remaining group is cheaper.
		stopped = listed%pageSize == 0 && listed/pageSize >= len(items)-len(found)
		return stopped
	})
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(items))
	for i, it := range items {
		g, ok := found[it.ID]
		if !ok && stopped {
			if g, ok, err = c.bySubject(ctx, it); err != nil {
				return nil, err
			}
		}
		if !ok || g.GroupStatus == statusDeleting {
			continue // changed, or gone: Observe tells
		}
		members, err := c.participantsPatiently(ctx, it.ID)
		if err != nil {
			return out, err // the groups read so far keep their answer
		}
		// A new count (a pending member joined) is news for status.
		out[i] = len(members) == it.MemberCount && compare(it.Want, snapshotOf(g, members), c.businessNumber).upToDate()
	}
	return out, nil
}

// throttleRetries is how often a batch waits out a throttled participants
// read before it gives up: in a batch of thousands, one throttled answer must
// not send every group to a read of its own.
const throttleRetries = 3

// participantsPatiently reads id's participants, waiting out up to
// throttleRetries throttled answers while ctx's deadline allows the wait.
func (c *Client) participantsPatiently(ctx context.Context, id string) ([]string, error) {
	for attempt := 0; ; attempt++ {
		members, err := c.participants(ctx, id)
		if err == nil || attempt == throttleRetries || !errors.Is(err, vendors.ErrRateLimited) {
			return members, err
		}
		wait := max(vendors.RetryAfter(err), time.Second)
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// bySubject looks it's group up among the groups with its last observed and
// its wanted subject; a group under neither is left to Observe.
func (c *Client) bySubject(ctx context.Context, it vendors.BatchItem) (chatGroup, bool, error) {
	for _, subject := range []string{it.Want.ObservedName, it.Want.Name} {
		if subject == "" {
			continue
		}
		groups, err := c.withSubject(ctx, subject)
		if err != nil {
			return chatGroup{}, false, err
		}
		for _, g := range groups {
			if g.GroupID == it.ID {
				return g, true, nil
			}
		}
	}
	return chatGroup{}, false, nil
}
