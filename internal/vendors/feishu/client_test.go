package feishu

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	simfeishu "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/feishu"
)

const (
	testApp    = "cli_test"
	testSecret = "canary-feishu-app-secret"
)

var users = []string{"ou_owner", "ou_new_owner", "ou_1", "ou_2", "ou_3", "ou_4", "ou_5", "ou_6"}

// newSim starts the simulator with cfg (app and users filled in) and a client for it.
func newSim(t *testing.T, cfg simfeishu.Config) (*simfeishu.Server, *Client) {
	t.Helper()
	cfg.AppID, cfg.AppSecret = testApp, testSecret
	if cfg.Users == nil {
		cfg.Users = users
	}
	sim := simfeishu.New(cfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := New(vendors.Credentials{Endpoint: srv.URL, Settings: Settings{},
		Secret: map[string][]byte{SecretAppID: []byte(testApp), SecretAppSecret: []byte(testSecret)}})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

// writes counts the simulator's successful calls of op.
func count(sim *simfeishu.Server, op string) int { return sim.Count(op, "ok") }

func TestClient_CreateTakesOneCallAndOnePUTOnlyForWhatCreateCannotSet(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sim, c := newSim(t, simfeishu.Config{})
	want := vendors.GroupSpec{UID: "uid-1", Name: "SRE", Owner: "ou_owner", Members: []string{"ou_1", "ou_2"},
		Options: vendors.Options{ManagedByOwnerOnly: ptr.To(true), JoinPolicy: "ApprovalRequired"}}
	got, err := c.Create(ctx, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(count(sim, simfeishu.OpCreate)).To(Equal(1))
	g.Expect(count(sim, simfeishu.OpUpdate)).To(Equal(0), "create takes edit_permission and membership_approval")
	g.Expect(got.Members).To(ConsistOf("ou_owner", "ou_1", "ou_2"))

	want2 := want
	want2.UID = "uid-2"
	want2.Options.MentionAllOwnerOnly = ptr.To(true)
	want2.Vendor = Desired{AddMembersOwnerOnly: ptr.To(true)}
	got2, err := c.Create(ctx, want2)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(count(sim, simfeishu.OpCreate)).To(Equal(2))
	g.Expect(count(sim, simfeishu.OpUpdate)).To(Equal(1), "one PUT for at_all_permission and the paired add/share permissions")
	chat, _ := sim.Chat(got2.ID)
	g.Expect(chat.Settings).To(HaveKeyWithValue("at_all_permission", "only_owner"))
	g.Expect(chat.Settings).To(HaveKeyWithValue("add_member_permission", "only_owner"))
	g.Expect(chat.Settings).To(HaveKeyWithValue("share_card_permission", "not_allowed"))

	obs, err := c.Observe(ctx, got2.ID, want2)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.UpToDate).To(BeTrue(), obs.Diff)
}

func TestClient_RepeatedCreateDedupesOnUUID(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sim, c := newSim(t, simfeishu.Config{})
	want := vendors.GroupSpec{UID: "uid-1", Name: "SRE", Owner: "ou_owner", Members: []string{"ou_1"}}
	a, err := c.Create(ctx, want)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.Find(ctx, want)
	g.Expect(errors.Is(err, vendors.ErrNotFound)).To(BeTrue(), "creating again is safe")
	b, err := c.Create(ctx, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(b.ID).To(Equal(a.ID))
	g.Expect(sim.Chats()).To(HaveLen(1))
	g.Expect(sim.Count(simfeishu.OpCreate, "deduped")).To(Equal(1))
}

func TestClient_UpdateInTheFewestCalls(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sim, c := newSim(t, simfeishu.Config{})
	want := vendors.GroupSpec{UID: "u", Name: "SRE", Owner: "ou_owner", Members: []string{"ou_1", "ou_2"}}
	created, err := c.Create(ctx, want)
	g.Expect(err).NotTo(HaveOccurred())
	before := sim.Len()

	want.Name = "SRE on-call"
	want.Members = []string{"ou_3", "ou_4", "ou_5"}
	obs, err := c.Observe(ctx, created.ID, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.UpToDate).To(BeFalse())
	res, err := c.Update(ctx, obs.Group, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Added).To(ConsistOf("ou_3", "ou_4", "ou_5"))
	g.Expect(res.Removed).To(ConsistOf("ou_1", "ou_2"))
	g.Expect(count(sim, simfeishu.OpMembersAdd)).To(Equal(1))
	g.Expect(count(sim, simfeishu.OpMembersRemove)).To(Equal(1))
	g.Expect(count(sim, simfeishu.OpUpdate)).To(Equal(1))
	g.Expect(sim.Len()-before).To(Equal(2+3), "get + members page, then add, PUT, remove")

	chat, _ := sim.Chat(created.ID)
	g.Expect(chat.Name).To(Equal("SRE on-call"))
	g.Expect(chat.Members).To(ConsistOf("ou_owner", "ou_3", "ou_4", "ou_5"))

	mark := sim.Len()
	obs, err = c.Observe(ctx, created.ID, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.UpToDate).To(BeTrue(), obs.Diff)
	g.Expect(sim.Len()-mark).To(Equal(2), "a no-op resync reads twice and writes nothing")
}

func TestClient_OwnerTransferAddsTheNewOwnerFirst(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sim, c := newSim(t, simfeishu.Config{})
	want := vendors.GroupSpec{UID: "u", Name: "SRE", Owner: "ou_owner", Members: []string{"ou_1"}}
	created, err := c.Create(ctx, want)
	g.Expect(err).NotTo(HaveOccurred())
	want.Owner = "ou_new_owner"
	obs, err := c.Observe(ctx, created.ID, want)
	g.Expect(err).NotTo(HaveOccurred())
	res, err := c.Update(ctx, obs.Group, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.OwnerTransferred).To(BeTrue())
	chat, _ := sim.Chat(created.ID)
	g.Expect(chat.Owner).To(Equal("ou_new_owner"))
	g.Expect(chat.Members).To(ConsistOf("ou_new_owner", "ou_1"), "the new owner joined first; the old one left after the transfer")
	g.Expect(res.Removed).To(Equal([]string{"ou_owner"}))
}

func TestClient_UnknownMembersAreReportedWhileTheRestIsApplied(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sim, c := newSim(t, simfeishu.Config{})
	want := vendors.GroupSpec{UID: "u", Name: "SRE", Owner: "ou_owner", Members: []string{"ou_1", "ou_ghost"}}
	created, err := c.Create(ctx, want)
	g.Expect(errors.Is(err, vendors.ErrInvalid)).To(BeTrue(), "%v", err)
	g.Expect(err.Error()).To(ContainSubstring("ou_ghost"))
	g.Expect(vendors.FieldOf(err)).To(Equal("members"))
	g.Expect(created.ID).NotTo(BeEmpty(), "the chat exists")
	chat, _ := sim.Chat(created.ID)
	g.Expect(chat.Members).To(ConsistOf("ou_owner", "ou_1"))
	g.Expect(sim.Count(simfeishu.OpCreate, "error")).To(Equal(1), "232043 on the full list, then a create without it")

	want.Members = []string{"ou_1", "ou_2", "ou_nobody"}
	obs, err := c.Observe(ctx, created.ID, want)
	g.Expect(err).NotTo(HaveOccurred())
	res, err := c.Update(ctx, obs.Group, want)
	g.Expect(errors.Is(err, vendors.ErrInvalid)).To(BeTrue())
	g.Expect(res.Added).To(ConsistOf("ou_2"))
	chat, _ = sim.Chat(created.ID)
	g.Expect(chat.Members).To(ConsistOf("ou_owner", "ou_1", "ou_2"))
}

func TestClient_TokenIsReusedAndRefreshedOnceWhenRejected(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sim, c := newSim(t, simfeishu.Config{})
	g.Expect(c.CheckCredentials(ctx)).To(Succeed())
	created, err := c.Create(ctx, vendors.GroupSpec{UID: "u", Name: "SRE"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sim.Count(simfeishu.OpToken)).To(Equal(1), "the token is cached")

	sim.RevokeTokens()
	_, err = c.Observe(ctx, created.ID, vendors.GroupSpec{Name: "SRE"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sim.Count(simfeishu.OpToken)).To(Equal(2), "one refresh")
	g.Expect(sim.Count(simfeishu.OpGet, "error")).To(Equal(1), "one rejected call, retried once")

	bad, err := New(vendors.Credentials{Endpoint: c.base, Secret: map[string][]byte{SecretAppID: []byte(testApp), SecretAppSecret: []byte("wrong")}})
	g.Expect(err).NotTo(HaveOccurred())
	err = bad.CheckCredentials(ctx)
	g.Expect(errors.Is(err, vendors.ErrUnauthorized)).To(BeTrue(), "%v", err)
	g.Expect(err.Error()).NotTo(ContainSubstring("wrong"))
}

func TestClient_ThrottleCarriesTheResetDelay(t *testing.T) {
	g := NewWithT(t)
	sim, c := newSim(t, simfeishu.Config{})
	g.Expect(c.CheckCredentials(context.Background())).To(Succeed())
	sim.ThrottleFor(time.Minute)
	_, err := c.Observe(context.Background(), "oc_x", vendors.GroupSpec{})
	g.Expect(errors.Is(err, vendors.ErrRateLimited)).To(BeTrue(), "%v", err)
	g.Expect(vendors.RetryAfter(err)).To(BeNumerically(">=", time.Second))
}

func TestClient_MemberWritesOnOneChatAreSerialised(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sim, c := newSim(t, simfeishu.Config{MemberWriteTime: 50 * time.Millisecond})
	created, err := c.Create(ctx, vendors.GroupSpec{UID: "u", Name: "SRE", Owner: "ou_owner"})
	g.Expect(err).NotTo(HaveOccurred())
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = c.addMembers(ctx, created.ID, []string{users[2+i]})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(sim.Count(simfeishu.OpMembersAdd, "error")).To(BeZero(), "no 232019")
}

func TestClient_DeleteDissolvesAndIsIdempotent(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sim, c := newSim(t, simfeishu.Config{})
	created, err := c.Create(ctx, vendors.GroupSpec{UID: "u", Name: "SRE", Owner: "ou_owner"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Delete(ctx, created.ID)).To(Succeed())
	g.Expect(c.Delete(ctx, created.ID)).To(Succeed())
	g.Expect(count(sim, simfeishu.OpDelete)).To(Equal(1))
	obs, err := c.Observe(ctx, created.ID, vendors.GroupSpec{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.Exists).To(BeFalse())
}

func TestClient_ListGroupsAndExportAdoptWithNothingToChange(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sim, c := newSim(t, simfeishu.Config{})
	want := vendors.GroupSpec{UID: "a", Name: "SRE", Owner: "ou_owner", Members: []string{"ou_1"}, Description: "d",
		Options: vendors.Options{MentionAllOwnerOnly: ptr.To(true), JoinPolicy: "ApprovalRequired"},
		Vendor:  Desired{ChatType: "public", AddMembersOwnerOnly: ptr.To(true)}}
	kept, err := c.Create(ctx, want)
	g.Expect(err).NotTo(HaveOccurred())
	gone, err := c.Create(ctx, vendors.GroupSpec{UID: "b", Name: "gone"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Delete(ctx, gone.ID)).To(Succeed())

	groups, err := c.ListGroups(ctx, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(groups).To(HaveLen(1), "the dissolved chat is skipped")
	g.Expect(groups[0].ID).To(Equal(kept.ID))
	g.Expect(sim.Count(simfeishu.OpList)).To(Equal(1))

	spec := v1alpha1.ChatGroupSpec{Name: groups[0].Name, Owner: groups[0].Owner, Members: []string{"ou_1"}}
	export(groups[0], &spec)
	g.Expect(spec.Feishu).To(Equal(&v1alpha1.FeishuGroup{ChatType: "Public", AddMembers: v1alpha1.OwnerOnly}))
	g.Expect(spec.ManagementOptions.MentionAll).To(Equal(v1alpha1.OwnerOnly))
	adopted := vendors.GroupSpec{Name: spec.Name, Owner: spec.Owner, Members: spec.Members, Description: spec.Description,
		Options: vendors.Options{MentionAllOwnerOnly: ptr.To(true), ManagedByOwnerOnly: ptr.To(false), JoinPolicy: string(spec.ManagementOptions.JoinPolicy)},
		Vendor:  desired(spec.Feishu)}
	obs, err := c.Observe(ctx, kept.ID, adopted)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.UpToDate).To(BeTrue(), obs.Diff)
}

func TestClient_AvatarIsComparedWithTheKeyLastSetNotTheURLFeishuReports(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sim, c := newSim(t, simfeishu.Config{})
	want := vendors.GroupSpec{UID: "a", Name: "SRE", Icon: "img_v2_key1"}
	created, err := c.Create(ctx, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(created.Extra.(chatInfo).AvatarKey).To(Equal("img_v2_key1"), "recorded for status.feishu")

	want.Vendor = Desired{AvatarKey: "img_v2_key1"}
	obs, err := c.Observe(ctx, created.ID, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.UpToDate).To(BeTrue(), obs.Diff)

	want.Icon = "img_v2_key2"
	obs, err = c.Observe(ctx, created.ID, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.Diff).To(ContainSubstring("avatar"))
	res, err := c.Update(ctx, obs.Group, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Group.Extra.(chatInfo).AvatarKey).To(Equal("img_v2_key2"))
	chat, _ := sim.Chat(created.ID)
	g.Expect(chat.Avatar).To(Equal("img_v2_key2"))
}
