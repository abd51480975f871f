package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

var ctx = context.Background()

func TestCheckCredentials(t *testing.T) {
	for _, tc := range []struct {
		name      string
		respond   func(string, url.Values) (int, string)
		wantClass error
	}{
		{name: "accepted"},
		{name: "wrong secret", respond: func(string, url.Values) (int, string) { return 400, `{"Code":"SignatureDoesNotMatch"}` }, wantClass: vendors.ErrUnauthorized},
		{name: "unknown key", respond: func(string, url.Values) (int, string) { return 404, `{"Code":"InvalidAccessKeyId.NotFound"}` }, wantClass: vendors.ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeCAMS(t)
			f.respond = tc.respond
			err := newTestClient(t, f).CheckCredentials(ctx)
			g.Expect(f.callsOf("ListChatGroup")).To(HaveLen(1))
			g.Expect(f.callsOf("ListChatGroup")[0].Params.Get("Page")).To(Equal(`{"Index":1,"Size":1}`), "the cheapest list")
			if tc.wantClass == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(tc.wantClass))
		})
	}
}

func TestCreate(t *testing.T) {
	want := vendors.GroupSpec{Name: "Field team", Description: "Site visits"}
	for _, tc := range []struct {
		name        string
		groups      []chatGroup
		respond     func(string, url.Values) (int, string)
		wantActions []string
		wantClass   error
		wantInMsg   string
	}{
		{name: "no group with the subject: AddChatGroup, then wait",
			wantActions: []string{"ListChatGroup", "AddChatGroup"}, wantClass: vendors.ErrInProgress, wantInMsg: "UC-1"},
		{name: "an ACTIVE group with the subject is adopted, not duplicated",
			groups:      []chatGroup{{GroupID: "G1", Subject: "Field team", GroupStatus: statusActive}},
			wantActions: []string{"ListChatGroup"}, wantClass: vendors.ErrInProgress, wantInMsg: "G1"},
		{name: "a CREATING group with the subject is waited for, not duplicated",
			groups:      []chatGroup{{GroupID: "G1", Subject: "Field team", GroupStatus: statusCreating}},
			wantActions: []string{"ListChatGroup"}, wantClass: vendors.ErrInProgress},
		{name: "an INACTIVE group with the subject does not count",
			groups:      []chatGroup{{GroupID: "G1", Subject: "Field team", GroupStatus: "INACTIVE"}},
			wantActions: []string{"ListChatGroup", "AddChatGroup"}, wantClass: vendors.ErrInProgress},
		{name: "a group whose subject only contains the name does not count",
			groups:      []chatGroup{{GroupID: "G1", Subject: "Field team 2", GroupStatus: statusActive}},
			wantActions: []string{"ListChatGroup", "AddChatGroup"}, wantClass: vendors.ErrInProgress},
		{name: "a refused create is returned as is",
			respond: func(action string, _ url.Values) (int, string) {
				if action == "AddChatGroup" {
					return 400, `{"Code":"InvalidParameter.Subject","Message":"subject too long"}`
				}
				return 0, ""
			},
			wantActions: []string{"ListChatGroup", "AddChatGroup"}, wantClass: vendors.ErrInvalid},
		{name: "a failing lookup creates nothing",
			respond:     func(string, url.Values) (int, string) { return 503, `{"Code":"ServiceUnavailable"}` },
			wantActions: []string{"ListChatGroup"}, wantClass: vendors.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeCAMS(t)
			f.groups, f.respond = tc.groups, tc.respond
			got, err := newTestClient(t, f).Create(ctx, want)
			g.Expect(err).To(MatchError(tc.wantClass))
			g.Expect(err.Error()).To(ContainSubstring(tc.wantInMsg))
			g.Expect(got.ID).To(BeEmpty(), "CAMS returns no group ID")
			g.Expect(f.actions()).To(Equal(tc.wantActions))
			if tc.wantClass == vendors.ErrInProgress {
				g.Expect(vendors.RetryAfter(err)).To(Equal(createPollInterval))
				g.Expect(vendors.Definite(err)).To(BeFalse(), "the controller must keep create-pending")
			}
			if adds := f.callsOf("AddChatGroup"); len(adds) == 1 {
				g.Expect(adds[0].Params.Get("Subject")).To(Equal("Field team"))
				g.Expect(adds[0].Params.Get("Description")).To(Equal("Site visits"))
			}
		})
	}
}

func TestCreate_OmitsAnUnsetDescription(t *testing.T) {
	g := NewWithT(t)
	f := newFakeCAMS(t)
	_, err := newTestClient(t, f).Create(ctx, vendors.GroupSpec{Name: "Field team"})
	g.Expect(err).To(MatchError(vendors.ErrInProgress))
	g.Expect(f.callsOf("AddChatGroup")[0].Params).NotTo(HaveKey("Description"))
}

func TestFind(t *testing.T) {
	want := vendors.GroupSpec{Name: "Field team"}
	for _, tc := range []struct {
		name      string
		groups    []chatGroup
		created   time.Duration // how long ago this client created the subject; 0: never
		wantIDs   []string
		wantClass error
	}{
		{name: "nothing", wantIDs: nil},
		{name: "one ACTIVE match", groups: []chatGroup{{GroupID: "G1", Subject: "Field team", GroupStatus: statusActive}}, wantIDs: []string{"G1"}},
		{name: "every ACTIVE match, for the controller to judge",
			groups:  []chatGroup{{GroupID: "G1", Subject: "Field team", GroupStatus: statusActive}, {GroupID: "G2", Subject: "Field team", GroupStatus: statusUpdating}},
			wantIDs: []string{"G1", "G2"}},
		{name: "still CREATING", groups: []chatGroup{{GroupID: "G1", Subject: "Field team", GroupStatus: statusCreating}}, wantClass: vendors.ErrInProgress},
		{name: "a CREATING match keeps the ACTIVE ones waiting",
			groups:    []chatGroup{{GroupID: "G1", Subject: "Field team", GroupStatus: statusActive}, {GroupID: "G2", Subject: "Field team", GroupStatus: statusCreating}},
			wantClass: vendors.ErrInProgress},
		{name: "deleting and other subjects do not match",
			groups: []chatGroup{{GroupID: "G1", Subject: "Field team", GroupStatus: statusDeleting}, {GroupID: "G2", Subject: "Field team B", GroupStatus: statusActive}}},
		{name: "just created but not listed yet", created: time.Second, wantClass: vendors.ErrInProgress},
		{name: "created long ago and still not listed", created: createGrace + time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeCAMS(t)
			f.groups = tc.groups
			clock := clocktesting.NewFakeClock(time.Unix(1000, 0))
			c := newTestClient(t, f, vendors.WithClock(clock))
			if tc.created > 0 {
				c.remember(want.Name)
				clock.Step(tc.created)
			}
			ids, err := c.Find(ctx, want)
			if tc.wantClass != nil {
				g.Expect(err).To(MatchError(tc.wantClass))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(ids).To(Equal(tc.wantIDs))
		})
	}
}

func TestFind_AfterARefusedCreateDoesNotWait(t *testing.T) {
	g := NewWithT(t)
	f := newFakeCAMS(t)
	f.respond = func(action string, _ url.Values) (int, string) {
		if action == "AddChatGroup" {
			return 403, `{"Code":"Forbidden.NotAllowlisted"}`
		}
		return 0, ""
	}
	c := newTestClient(t, f)
	_, err := c.Create(ctx, vendors.GroupSpec{Name: "Field team"})
	g.Expect(err).To(MatchError(vendors.ErrAccessDenied))
	ids, err := c.Find(ctx, vendors.GroupSpec{Name: "Field team"})
	g.Expect(err).NotTo(HaveOccurred(), "nothing was created, so there is nothing to wait for")
	g.Expect(ids).To(BeEmpty())
}

func TestFind_PagesThroughEveryMatch(t *testing.T) {
	g := NewWithT(t)
	f := newFakeCAMS(t)
	for i := range 45 {
		f.groups = append(f.groups, chatGroup{GroupID: fmt.Sprintf("G%02d", i), Subject: "Field team", GroupStatus: statusActive})
	}
	ids, err := newTestClient(t, f).Find(ctx, vendors.GroupSpec{Name: "Field team"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ids).To(HaveLen(45))
	var pages []string
	for _, c := range f.callsOf("ListChatGroup") {
		pages = append(pages, c.Params.Get("Page"))
	}
	g.Expect(pages).To(Equal([]string{`{"Index":1,"Size":20}`, `{"Index":2,"Size":20}`, `{"Index":3,"Size":20}`}))
}

func TestObserve(t *testing.T) {
	const link = "https://chat.whatsapp.com/OPEN"
	want := vendors.GroupSpec{Name: "Field team", Description: "Site visits", Members: []string{"+8613800000001", "+8613800000002"}, MemberPolicy: vendors.Authoritative}
	group := func(mod func(*chatGroup)) []chatGroup {
		cg := chatGroup{GroupID: "G1", Subject: "Field team", Description: "Site visits", GroupStatus: statusActive, InviteLink: link}
		if mod != nil {
			mod(&cg)
		}
		return []chatGroup{{GroupID: "G0", Subject: "Other", GroupStatus: statusActive}, cg}
	}
	for _, tc := range []struct {
		name          string
		groups        []chatGroup
		participants  []string
		wantExists    bool
		wantUpToDate  bool
		wantPending   []string
		wantLink      string
		wantDiff      string
		wantListCalls int
	}{
		{name: "pending invitees with an open link: up to date",
			groups: group(nil), participants: []string{"8613800000001"},
			wantExists: true, wantUpToDate: true, wantPending: []string{"+8613800000002"}, wantLink: link, wantDiff: "1 members awaiting invite", wantListCalls: 1},
		{name: "pending invitees without a link",
			groups: group(func(g *chatGroup) { g.InviteLink = "" }), participants: nil,
			wantExists: true, wantPending: want.Members, wantDiff: "open invite link, 2 members awaiting invite", wantListCalls: 1},
		{name: "renamed on the vendor: found among all groups",
			groups: group(func(g *chatGroup) { g.Subject = "Renamed" }), participants: []string{"8613800000001", "8613800000002"},
			wantExists: true, wantLink: link, wantDiff: "subject, revoke invite link", wantListCalls: 2},
		{name: "an unlisted participant",
			groups: group(nil), participants: []string{"8613800000001", "8613800000002", "8613800000009"},
			wantExists: true, wantLink: link, wantDiff: "remove 1 participants, revoke invite link", wantListCalls: 1},
		{name: "gone", groups: group(func(g *chatGroup) { g.GroupID = "G9" }), wantListCalls: 2},
		{name: "being deleted", groups: group(func(g *chatGroup) { g.GroupStatus = statusDeleting }), wantListCalls: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeCAMS(t)
			f.groups = tc.groups
			f.participants["G1"] = tc.participants
			obs, err := newTestClient(t, f).Observe(ctx, "G1", want)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(obs.Exists).To(Equal(tc.wantExists))
			g.Expect(f.callsOf("ListChatGroup")).To(HaveLen(tc.wantListCalls))
			g.Expect(f.callsOf("ListChatGroup")[0].Params.Get("Subject")).To(Equal("Field team"), "by subject first")
			if !tc.wantExists {
				return
			}
			g.Expect(obs.UpToDate).To(Equal(tc.wantUpToDate))
			g.Expect(obs.Diff).To(Equal(tc.wantDiff))
			g.Expect(obs.Group.ID).To(Equal("G1"))
			g.Expect(obs.Group.PendingMembers).To(Equal(tc.wantPending))
			g.Expect(obs.Group.Invitation).To(Equal(invitation(tc.wantLink)))
			g.Expect(obs.Group.Members).To(HaveLen(len(tc.participants)))
			g.Expect(f.callsOf("ListChatGroupParticipants")[0].Params.Get("GroupId")).To(Equal("G1"))
		})
	}
}

func TestObserve_PagesThroughParticipants(t *testing.T) {
	g := NewWithT(t)
	f := newFakeCAMS(t)
	f.groups = []chatGroup{{GroupID: "G1", Subject: "Big", GroupStatus: statusActive}}
	for i := range 25 {
		f.participants["G1"] = append(f.participants["G1"], fmt.Sprintf("86138000000%02d", i))
	}
	obs, err := newTestClient(t, f).Observe(ctx, "G1", vendors.GroupSpec{Name: "Big", MemberPolicy: vendors.Additive})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.Group.Members).To(HaveLen(25))
	g.Expect(f.callsOf("ListChatGroupParticipants")).To(HaveLen(2))
}

func TestUpdate(t *testing.T) {
	const link = "https://chat.whatsapp.com/OPEN"
	base := chatGroup{GroupID: "G1", Subject: "Field team", Description: "Site visits", ProfilePictureFile: "https://img.example/a.jpg", GroupStatus: statusActive}
	spec := vendors.GroupSpec{Name: "Field team", Description: "Site visits", Icon: "https://img.example/a.jpg", MemberPolicy: vendors.Authoritative,
		Vendor: GroupSettings{PictureHash: pictureHash("https://img.example/a.jpg")}}
	for _, tc := range []struct {
		name        string
		group       func(*chatGroup)
		members     []string // participants as observed
		want        func(*vendors.GroupSpec)
		wantWrites  []string
		wantParams  map[string]url.Values
		wantResult  vendors.UpdateResult
		wantRemoved []string
	}{
		{name: "subject and description: one UpdateChatGroup with only those",
			want:       func(w *vendors.GroupSpec) { w.Name, w.Description = "Field crew", "Visits" },
			wantWrites: []string{"UpdateChatGroup"},
			wantParams: map[string]url.Values{"UpdateChatGroup": {"GroupId": {"G1"}, "Subject": {"Field crew"}, "Description": {"Visits"}}},
			wantResult: vendors.UpdateResult{SettingsChanged: true, Group: vendors.ObservedGroup{ID: "G1", Name: "Field crew", Members: []string{}}}},
		{name: "icon: ProfilePictureFile only",
			want:       func(w *vendors.GroupSpec) { w.Icon = "https://img.example/b.jpg" },
			wantWrites: []string{"UpdateChatGroup"},
			wantParams: map[string]url.Values{"UpdateChatGroup": {"GroupId": {"G1"}, "ProfilePictureFile": {"https://img.example/b.jpg"}}},
			wantResult: vendors.UpdateResult{SettingsChanged: true, Group: vendors.ObservedGroup{ID: "G1", Name: "Field team", Members: []string{}}}},
		{name: "pending members: open a link",
			want:       func(w *vendors.GroupSpec) { w.Members = []string{"+8613800000001"} },
			members:    []string{},
			wantWrites: []string{"AddChatGroupInviteLink"},
			wantResult: vendors.UpdateResult{Group: vendors.ObservedGroup{ID: "G1", Name: "Field team", Members: []string{}, PendingMembers: []string{"+8613800000001"}, Invitation: invitation("https://chat.whatsapp.com/NEWLINK")}}},
		{name: "everyone joined: revoke the link",
			group:      func(g *chatGroup) { g.InviteLink = link },
			want:       func(w *vendors.GroupSpec) { w.Members = []string{"+8613800000001"} },
			members:    []string{"8613800000001"},
			wantWrites: []string{"DeleteChatGroupInviteLink"},
			wantResult: vendors.UpdateResult{Group: vendors.ObservedGroup{ID: "G1", Name: "Field team", Members: []string{"8613800000001"}}}},
		{name: "an unlisted participant is removed; the link stays for the pending one",
			group:      func(g *chatGroup) { g.InviteLink = link },
			want:       func(w *vendors.GroupSpec) { w.Members = []string{"+8613800000001", "+8613800000002"} },
			members:    []string{"8613800000001", "8613800000009"},
			wantWrites: []string{"DeleteChatGroupParticipants"},
			wantParams: map[string]url.Values{"DeleteChatGroupParticipants": {"GroupId": {"G1"}, "List": {`[{"ParticipantNumber":"8613800000009"}]`}}},
			wantResult: vendors.UpdateResult{Removed: []string{"8613800000009"},
				Group: vendors.ObservedGroup{ID: "G1", Name: "Field team", Members: []string{"8613800000001"}, PendingMembers: []string{"+8613800000002"}, Invitation: invitation(link)}}},
		{name: "additive: a removed member is reported as the operator added it",
			want: func(w *vendors.GroupSpec) {
				w.MemberPolicy, w.AddedMembers = vendors.Additive, []string{"+8613800000007"}
			},
			members:    []string{"8613800000007", "8613800000009"},
			wantWrites: []string{"DeleteChatGroupParticipants"},
			wantResult: vendors.UpdateResult{Removed: []string{"+8613800000007"},
				Group: vendors.ObservedGroup{ID: "G1", Name: "Field team", Members: []string{"8613800000009"}}}},
		{name: "nothing to do: no writes",
			wantResult: vendors.UpdateResult{Group: vendors.ObservedGroup{ID: "G1", Name: "Field team", Members: []string{}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeCAMS(t)
			cg := base
			if tc.group != nil {
				tc.group(&cg)
			}
			f.groups = []chatGroup{cg}
			want := spec
			if tc.want != nil {
				tc.want(&want)
			}
			members := tc.members
			if members == nil {
				members = []string{}
			}
			got := vendors.ObservedGroup{ID: "G1", Name: cg.Subject, Members: members, Invitation: invitation(cg.InviteLink)}

			res, err := newTestClient(t, f).Update(ctx, got, want)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(writes(f.actions())).To(Equal(tc.wantWrites))
			for action, params := range tc.wantParams {
				sent := f.callsOf(action)[0].Params
				for _, common := range []string{"Action", "Version", "CustSpaceId", "BusinessNumber", "ChannelType"} {
					sent.Del(common)
				}
				g.Expect(sent).To(Equal(params))
			}
			g.Expect(res.Group.Extra).To(Equal(Extra{PictureHash: pictureHash(want.Icon)}), "the record of the picture sent")
			res.Group.Extra = nil
			g.Expect(res).To(Equal(tc.wantResult))
		})
	}
}

func TestUpdate_StopsAtTheFirstFailure(t *testing.T) {
	g := NewWithT(t)
	f := newFakeCAMS(t)
	f.groups = []chatGroup{{GroupID: "G1", Subject: "Old", GroupStatus: statusActive}}
	f.respond = func(action string, _ url.Values) (int, string) {
		if action == "UpdateChatGroup" {
			return 400, `{"Code":"InvalidParameter.Subject","Message":"too long"}`
		}
		return 0, ""
	}
	_, err := newTestClient(t, f).Update(ctx, vendors.ObservedGroup{ID: "G1", Name: "Old", Members: []string{"8613800000009"}}, vendors.GroupSpec{Name: "New"})
	g.Expect(err).To(MatchError(vendors.ErrInvalid))
	g.Expect(vendors.FieldOf(err)).To(Equal("name"))
	g.Expect(writes(f.actions())).To(Equal([]string{"UpdateChatGroup"}))
}

func TestUpdate_GroupGone(t *testing.T) {
	g := NewWithT(t)
	f := newFakeCAMS(t)
	_, err := newTestClient(t, f).Update(ctx, vendors.ObservedGroup{ID: "G1", Name: "Old"}, vendors.GroupSpec{Name: "New"})
	g.Expect(err).To(MatchError(vendors.ErrNotFound))
	g.Expect(writes(f.actions())).To(BeEmpty())
}

func TestDelete(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		wantClass error
	}{
		{name: "deleted"},
		{name: "already gone counts as deleted", status: 404, body: `{"Code":"GroupNotExist"}`},
		{name: "transient failure", status: 503, body: `{"Code":"ServiceUnavailable"}`, wantClass: vendors.ErrUnavailable},
		{name: "not allowed", status: 403, body: `{"Code":"Forbidden.RAM"}`, wantClass: vendors.ErrAccessDenied},
		{name: "a wrong endpoint is not a deleted group", status: 404, body: `{"Code":"InvalidAction.NotFound"}`, wantClass: vendors.ErrUnavailable},
		{name: "an unknown code is not a deleted group", status: 404, body: `{"Code":"ChatGroupNotFound"}`, wantClass: vendors.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeCAMS(t)
			f.respond = func(string, url.Values) (int, string) { return tc.status, tc.body }
			err := newTestClient(t, f).Delete(ctx, "G1")
			calls := f.callsOf("DeleteChatGroup")
			g.Expect(calls).To(HaveLen(1))
			g.Expect(calls[0].Params.Get("GroupId")).To(Equal("G1"))
			if tc.wantClass == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(tc.wantClass))
		})
	}
}

// writes filters the write actions out of actions.
func writes(actions []string) []string {
	var out []string
	for _, a := range actions {
		if a != "ListChatGroup" && a != "ListChatGroupParticipants" {
			out = append(out, a)
		}
	}
	return out
}

func TestJSONParam(t *testing.T) {
	g := NewWithT(t)
	g.Expect(jsonParam([]participant{{"1"}, {"2"}})).To(Equal(`[{"ParticipantNumber":"1"},{"ParticipantNumber":"2"}]`))
	var back page
	g.Expect(json.Unmarshal([]byte(jsonParam(page{Index: 3, Size: 7})), &back)).To(Succeed())
	g.Expect(back).To(Equal(page{Index: 3, Size: 7}))
}

func TestUpdate_ReusesTheReadsOfThePassThatObserved(t *testing.T) {
	for _, tc := range []struct {
		name          string
		observedName  string // status.whatsapp.subject
		subject       string // the group's subject on CAMS
		wantListCalls int
	}{
		{name: "found under the subject last observed", observedName: "Field team", subject: "Field team", wantListCalls: 1},
		{name: "found under the wanted subject", subject: "Field crew", wantListCalls: 1},
		{name: "renamed on CAMS: found among all groups", subject: "Renamed", wantListCalls: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeCAMS(t)
			f.groups = []chatGroup{{GroupID: "G1", Subject: tc.subject, GroupStatus: statusActive}}
			c := newTestClient(t, f)
			pass := vendors.WithPassReads(ctx)
			want := vendors.GroupSpec{Name: "Field crew", ObservedName: tc.observedName, Description: "Visits"}

			obs, err := c.Observe(pass, "G1", want)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(obs.Exists).To(BeTrue())
			_, err = c.Update(pass, obs.Group, want)
			g.Expect(err).NotTo(HaveOccurred())

			g.Expect(f.callsOf("ListChatGroup")).To(HaveLen(tc.wantListCalls), "Update reads nothing Observe read")
			g.Expect(f.callsOf("ListChatGroupParticipants")).To(HaveLen(1))
			g.Expect(writes(f.actions())).To(Equal([]string{"UpdateChatGroup"}))

			_, err = c.Observe(pass, "G1", want)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(f.callsOf("ListChatGroupParticipants")).To(HaveLen(2), "a write ends the reuse")
		})
	}
}

func TestUpdate_WaitsForAnUpdatingGroup(t *testing.T) {
	g := NewWithT(t)
	f := newFakeCAMS(t)
	f.groups = []chatGroup{{GroupID: "G1", Subject: "Old", GroupStatus: statusUpdating}}
	_, err := newTestClient(t, f).Update(ctx, vendors.ObservedGroup{ID: "G1", Name: "Old", Members: []string{}}, vendors.GroupSpec{Name: "New"})
	g.Expect(err).To(MatchError(vendors.ErrUnavailable), "retried, never a stall")
	g.Expect(err.Error()).To(ContainSubstring(statusUpdating))
	g.Expect(writes(f.actions())).To(BeEmpty(), "no call that CAMS would refuse")

	f.groups[0].GroupStatus = statusActive
	_, err = newTestClient(t, f).Update(ctx, vendors.ObservedGroup{ID: "G1", Name: "Old", Members: []string{}}, vendors.GroupSpec{Name: "New"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(writes(f.actions())).To(Equal([]string{"UpdateChatGroup"}))
}

func TestObserve_AnUpdatingGroupExists(t *testing.T) {
	g := NewWithT(t)
	f := newFakeCAMS(t)
	f.groups = []chatGroup{{GroupID: "G1", Subject: "Field team", GroupStatus: statusUpdating}}
	obs, err := newTestClient(t, f).Observe(ctx, "G1", vendors.GroupSpec{Name: "Field team"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.Exists).To(BeTrue())
	g.Expect(obs.UpToDate).To(BeTrue())
}
