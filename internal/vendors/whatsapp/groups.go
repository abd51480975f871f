package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

var _ vendors.GroupClient = (*Client)(nil)

// Group states in ListChatGroup's GroupStatus.
// ListChatGroup documents six (vendor-apis.md §3.2,
// https://www.alibabacloud.com/help/en/chatapp/developer-reference/api-cams-2020-06-06-listchatgroup):
// CREATING, UPDATING and DELETING pass by themselves and are waited out;
// INACTIVE and SUSPENDED are the vendor's doing and are reported as such.
const (
	statusActive    = "ACTIVE"
	statusCreating  = "CREATING"
	statusUpdating  = "UPDATING"
	statusDeleting  = "DELETING"
	statusInactive  = "INACTIVE"
	statusSuspended = "SUSPENDED"
)

// unusable returns the error for a group CAMS holds in a state that takes no
// changes, nil when it is ACTIVE (or UPDATING and nothing is to change).
func unusable(g chatGroup, changing bool) error {
	switch g.GroupStatus {
	case statusActive:
		return nil
	case statusUpdating:
		if !changing {
			return nil
		}
		return vendors.NewError(vendors.ErrUnavailable, "UpdateChatGroup", "",
			"CAMS is still applying an earlier update to group "+g.GroupID+" ("+statusUpdating+"); the change is retried once it is "+statusActive)
	case statusCreating:
		return inProgress("ListChatGroup", "group %s is still being created (%s)", g.GroupID, statusCreating)
	case statusInactive:
		return vendors.NewError(vendors.ErrGroupDisabled, "ListChatGroup", "",
			"CAMS lists group "+g.GroupID+" as "+statusInactive+": WhatsApp no longer serves it; ask Alibaba Cloud support why, or delete the ChatGroup (deletionPolicy Orphan) and create a new one")
	case statusSuspended:
		return vendors.NewError(vendors.ErrGroupDisabled, "ListChatGroup", "",
			"CAMS lists group "+g.GroupID+" as "+statusSuspended+": WhatsApp suspended it; it takes no changes until the suspension is lifted (ask Alibaba Cloud support)")
	}
	return vendors.NewError(vendors.ErrUnavailable, "ListChatGroup", "", "CAMS lists group "+g.GroupID+" in the undocumented state "+fmt.Sprintf("%q", g.GroupStatus))
}

const (
	// pageSize is the page size for list calls (the size CAMS's examples use).
	pageSize = 20
	// maxPages stops a listing that never ends (a vendor bug must not hang a
	// pass): 100 000 groups.
	maxPages = 5000
	// maxRemovals is how many participants one DeleteChatGroupParticipants call
	// removes; a WhatsApp group has at most 8.
	maxRemovals = 8
	// createPollInterval is how soon the controller looks for a group being created.
	createPollInterval = 2 * time.Second
	// createGrace is how long Find keeps waiting for a group this client asked
	// CAMS to create to show up in ListChatGroup.
	createGrace = 2 * time.Minute
)

// chatGroup is one ListChatGroup entry.
type chatGroup struct {
	GroupID            string `json:"GroupId"`
	Subject            string
	Description        string
	GroupStatus        string
	InviteLink         string
	ProfilePictureFile string
}

type listGroupsResponse struct {
	Data struct {
		Total int
		List  []chatGroup
	}
}

type participant struct {
	ParticipantNumber string
}

type listParticipantsResponse struct {
	Data struct {
		Total int
		List  []participant
	}
}

type addGroupResponse struct {
	UniqueCode string
}

type inviteLinkResponse struct {
	InviteLink string
}

// CheckCredentials lists one group (the cheapest signed call, which also
// proves cams:ListChatGroup) and, until they have passed once for this client,
// probes the other RAM actions the operator needs (probePermissions). Once per
// client, not on every recheck: each probe is a call against the account's
// per-action flow control, and a grant never needs to be re-proved.
func (c *Client) CheckCredentials(ctx context.Context) error {
	if err := c.read(ctx, "ListChatGroup", map[string]string{"Page": jsonParam(page{Index: 1, Size: 1})}, nil); err != nil {
		return err
	}
	if c.permsChecked.Load() {
		return nil
	}
	if err := c.probePermissions(ctx); err != nil {
		return err
	}
	c.permsChecked.Store(true)
	return nil
}

// Observe reads group id (ListChatGroup by the wanted subject, then all pages)
// and its participants, and compares them with want. A group that is gone or
// being deleted does not exist.
func (c *Client) Observe(ctx context.Context, id string, want vendors.GroupSpec) (vendors.Observation, error) {
	// The subject last observed first: it differs from the wanted one only
	// when a rename is to be made, and then the group still has it.
	g, found, err := c.lookup(ctx, id, want.ObservedName, want.Name)
	if err != nil || !found || g.GroupStatus == statusDeleting {
		return vendors.Observation{}, err
	}
	if err := unusable(g, false); err != nil {
		return vendors.Observation{}, err
	}
	members, err := c.participants(ctx, id)
	if err != nil {
		return vendors.Observation{}, err
	}
	ch := compare(want, snapshotOf(g, members), c.businessNumber)
	obs := vendors.Observation{
		Exists:   true,
		UpToDate: ch.upToDate(),
		Diff:     ch.String(),
		Group:    observed(g, members, ch.Pending),
		Changes:  ch.neutral(),
	}
	obs.Group.Extra = Extra{PictureHash: settingsOf(want).PictureHash}
	return obs, nil
}

// Find returns the IDs of the ACTIVE groups with want's subject. While one is
// CREATING, or CAMS does not list a group this client created moments ago, it
// returns an ErrInProgress error instead.
func (c *Client) Find(ctx context.Context, want vendors.GroupSpec) ([]string, error) {
	groups, err := c.withSubject(ctx, want.Name)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, g := range groups {
		switch g.GroupStatus {
		case statusCreating:
			return nil, inProgress("ListChatGroup", "group %s with subject %q is still being created", g.GroupID, want.Name)
		case statusActive, statusUpdating:
			ids = append(ids, g.GroupID)
		}
	}
	if len(ids) == 0 && c.recentlyCreated(want.Name) {
		return nil, inProgress("ListChatGroup", "CAMS accepted the group %q but does not list it yet", want.Name)
	}
	if len(ids) > 0 {
		c.forget(want.Name)
	}
	return ids, nil
}

// Create asks CAMS to create the group (AddChatGroup, which answers with a
// UniqueCode only) and returns an ErrInProgress error: the controller then finds
// the group by subject once it is ACTIVE. When a group with the subject already
// exists or is being created, it creates nothing and returns the same error, so
// the controller adopts that group instead of making a second one.
func (c *Client) Create(ctx context.Context, want vendors.GroupSpec) (vendors.ObservedGroup, error) {
	if want.Name == "" {
		return vendors.ObservedGroup{}, &vendors.Error{Class: vendors.ErrInvalid, Op: "AddChatGroup", Field: "name", Message: "a WhatsApp group needs a subject"}
	}
	groups, err := c.withSubject(ctx, want.Name)
	if err != nil {
		return vendors.ObservedGroup{}, err
	}
	if i := slices.IndexFunc(groups, isLive); i >= 0 {
		return vendors.ObservedGroup{}, inProgress("AddChatGroup", "group %s with subject %q exists (%s); adopting it instead of creating another",
			groups[i].GroupID, want.Name, groups[i].GroupStatus)
	}
	params := map[string]string{"Subject": want.Name}
	if want.Description != "" {
		params["Description"] = want.Description
	}
	c.remember(want.Name) // before the call: a lost response may still have created it
	var out addGroupResponse
	if err := c.write(ctx, "AddChatGroup", params, &out); err != nil {
		if vendors.Definite(err) {
			c.forget(want.Name)
		}
		return vendors.ObservedGroup{}, err
	}
	return vendors.ObservedGroup{}, inProgress("AddChatGroup", "CAMS is creating group %q (unique code %s)", want.Name, out.UniqueCode)
}

// Update makes the calls that turn got (from Observe) into want: UpdateChatGroup
// with the settings that differ, DeleteChatGroupParticipants for unlisted
// participants, and opening or revoking the invite link. It needs the group's
// settings, which ObservedGroup does not carry: it repeats Observe's lookup
// exactly, so in the pass that observed the group every read is answered from
// that pass's reads.
//
// While CAMS is still applying an earlier update (UPDATING, vendor-apis.md
// §3.3) it makes no call and returns an ErrUnavailable error: the change is
// retried with backoff once the group is ACTIVE again, never stalled.
func (c *Client) Update(ctx context.Context, got vendors.ObservedGroup, want vendors.GroupSpec) (vendors.UpdateResult, error) {
	g, found, err := c.lookup(ctx, got.ID, want.ObservedName, want.Name)
	if err != nil {
		return vendors.UpdateResult{}, err
	}
	if !found {
		return vendors.UpdateResult{}, vendors.NewError(vendors.ErrNotFound, "ListChatGroup", "", "group "+got.ID+" no longer exists")
	}
	ch := compare(want, snapshotOf(g, got.Members), c.businessNumber)
	res := vendors.UpdateResult{Group: observed(g, got.Members, ch.Pending)}
	if err := unusable(g, !ch.upToDate()); err != nil {
		return res, err
	}
	if ch.settingsChanged() {
		if err := c.write(ctx, "UpdateChatGroup", settingsParams(got.ID, ch), nil); err != nil {
			return res, err
		}
		res.SettingsChanged = true
		res.Group.Name = want.Name
	}
	if err := c.removeParticipants(ctx, got.ID, ch.Remove); err != nil {
		return res, err
	}
	if len(ch.Remove) > 0 {
		res.Removed = spelledAs(normalizeAll(ch.Remove), append(slices.Clone(want.AddedMembers), ch.Remove...))
		res.Group.Members = vendors.Difference(got.Members, ch.Remove)
	}
	link, err := c.syncInviteLink(ctx, got.ID, ch, g.InviteLink)
	res.Group.Invitation = invitation(link)
	res.Group.Extra = Extra{PictureHash: sentPicture(want)}
	return res, err
}

// Delete deletes the group; a group that is already gone counts as deleted.
func (c *Client) Delete(ctx context.Context, id string) error {
	err := c.write(ctx, "DeleteChatGroup", map[string]string{"GroupId": id}, nil)
	if errors.Is(err, vendors.ErrNotFound) {
		return nil
	}
	return err
}

// settingsParams are UpdateChatGroup's parameters: only what differs.
func settingsParams(id string, ch changes) map[string]string {
	params := map[string]string{"GroupId": id}
	for k, v := range map[string]string{"Subject": ch.Subject, "Description": ch.Description, "ProfilePictureFile": ch.Picture} {
		if v != "" {
			params[k] = v
		}
	}
	return params
}

// removeParticipants removes numbers (as CAMS spells them) from group id.
func (c *Client) removeParticipants(ctx context.Context, id string, numbers []string) error {
	for _, batch := range vendors.Batches(numbers, maxRemovals) {
		list := make([]participant, len(batch))
		for i, n := range batch {
			list[i] = participant{ParticipantNumber: n}
		}
		if err := c.write(ctx, "DeleteChatGroupParticipants", map[string]string{"GroupId": id, "List": jsonParam(list)}, nil); err != nil {
			return err
		}
	}
	return nil
}

// syncInviteLink opens a link while members are pending and none is open, and
// revokes the open one once nobody is pending. It returns the link now open.
func (c *Client) syncInviteLink(ctx context.Context, id string, ch changes, current string) (string, error) {
	switch {
	case ch.OpenLink:
		var out inviteLinkResponse
		if err := c.write(ctx, "AddChatGroupInviteLink", map[string]string{"GroupId": id}, &out); err != nil {
			return "", err
		}
		return out.InviteLink, nil
	case ch.RevokeLink:
		if err := c.write(ctx, "DeleteChatGroupInviteLink", map[string]string{"GroupId": id}, nil); err != nil {
			return current, err
		}
		return "", nil
	}
	return current, nil
}

// lookup finds group id among the groups with each of subjects in turn
// (usually one call), then, when the subject has changed on the vendor, among
// all groups. Its reads are pass reads: within a reconcile pass, until a write,
// the same lookup (Observe's, then Update's) is answered without a call.
func (c *Client) lookup(ctx context.Context, id string, subjects ...string) (chatGroup, bool, error) {
	for i, subject := range subjects {
		if subject == "" || slices.Contains(subjects[:i], subject) {
			continue
		}
		groups, err := c.withSubject(ctx, subject)
		if err != nil {
			return chatGroup{}, false, err
		}
		if i := slices.IndexFunc(groups, func(g chatGroup) bool { return g.GroupID == id }); i >= 0 {
			return groups[i], true, nil
		}
	}
	var found chatGroup
	err := c.scanGroups(ctx, "", func(g chatGroup) bool {
		if g.GroupID == id {
			found = g
			return true
		}
		return false
	})
	return found, found.GroupID != "", err
}

// withSubject lists the groups whose subject is exactly subject.
func (c *Client) withSubject(ctx context.Context, subject string) ([]chatGroup, error) {
	var out []chatGroup
	err := c.scanGroups(ctx, subject, func(g chatGroup) bool {
		out = append(out, g)
		return false
	})
	return out, err
}

// scanGroups pages through ListChatGroup (filtered by subject when not empty)
// and calls visit for each group until it returns true. The documentation does
// not say whether the Subject filter matches exactly, so other subjects are
// skipped here.
func (c *Client) scanGroups(ctx context.Context, subject string, visit func(chatGroup) bool) error {
	seen := 0
	for index := 1; index <= maxPages; index++ {
		params := map[string]string{"Page": jsonParam(page{Index: index, Size: pageSize})}
		if subject != "" {
			params["Subject"] = subject
		}
		var out listGroupsResponse
		if err := c.read(ctx, "ListChatGroup", params, &out); err != nil {
			return err
		}
		for _, g := range out.Data.List {
			if (subject == "" || g.Subject == subject) && visit(g) {
				return nil
			}
		}
		seen += len(out.Data.List)
		if len(out.Data.List) < pageSize || seen >= out.Data.Total {
			return nil
		}
	}
	// Not having seen every group is not the same as the group not existing.
	return vendors.NewError(vendors.ErrUnavailable, "ListChatGroup", "", fmt.Sprintf("the listing did not end after %d pages", maxPages))
}

// participants lists group id's participants (ListChatGroupParticipants, all
// pages), as CAMS spells them.
func (c *Client) participants(ctx context.Context, id string) ([]string, error) {
	numbers := []string{}
	for index := 1; index <= maxPages; index++ {
		var out listParticipantsResponse
		params := map[string]string{"GroupId": id, "Page": jsonParam(page{Index: index, Size: pageSize})}
		if err := c.read(ctx, "ListChatGroupParticipants", params, &out); err != nil {
			return nil, err
		}
		for _, p := range out.Data.List {
			numbers = append(numbers, p.ParticipantNumber)
		}
		if len(out.Data.List) < pageSize || len(numbers) >= out.Data.Total {
			break
		}
	}
	return numbers, nil
}

// isLive reports whether g is, or is about to be, a usable group.
func isLive(g chatGroup) bool {
	return g.GroupStatus == statusActive || g.GroupStatus == statusCreating || g.GroupStatus == statusUpdating
}

func snapshotOf(g chatGroup, participants []string) snapshot {
	return snapshot{Subject: g.Subject, Description: g.Description, Picture: g.ProfilePictureFile, InviteLink: g.InviteLink, Participants: participants}
}

func observed(g chatGroup, members, pending []string) vendors.ObservedGroup {
	return vendors.ObservedGroup{ID: g.GroupID, Name: g.Subject, Members: members, PendingMembers: pending, Invitation: invitation(g.InviteLink)}
}

// inProgress is the error Create and Find return while a group is being created.
func inProgress(op, format string, args ...any) error {
	return &vendors.Error{Class: vendors.ErrInProgress, Op: op, Message: fmt.Sprintf(format, args...), RetryAfter: createPollInterval}
}

// remember notes that this client asked CAMS to create subject.
func (c *Client) remember(subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.creating[subject] = c.clock.Now()
}

// forget drops subject once its group is listed or its create was refused.
func (c *Client) forget(subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.creating, subject)
}

// recentlyCreated reports whether this client asked CAMS to create subject
// within createGrace.
func (c *Client) recentlyCreated(subject string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.creating[subject]
	return ok && c.clock.Since(at) < createGrace
}
