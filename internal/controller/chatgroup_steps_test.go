package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	clientfake "sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/fake"
)

const stepNamespace = "steps"

// stepGroup returns a ChatGroup of a vendor that allows deletionPolicy Delete,
// with the finalizer, modified by mods.
func stepGroup(mods ...func(*v1alpha1.ChatGroup)) *v1alpha1.ChatGroup {
	cg := newGroup(stepNamespace, "g", v1alpha1.TencentIM)
	cg.UID = types.UID("uid-steps")
	cg.Generation = 1
	cg.Finalizers = []string{v1alpha1.ChatGroupFinalizer}
	for _, m := range mods {
		m(cg)
	}
	return cg
}

func withAnnotation(key, value string) func(*v1alpha1.ChatGroup) {
	return func(cg *v1alpha1.ChatGroup) { metav1SetAnnotation(cg, key, value) }
}

// stepReconciler stores cg (and extra objects) in a fake client and returns a
// reconciler on it, the stored copy of cg to pass to a step, and the recorder.
func stepReconciler(t *testing.T, cg *v1alpha1.ChatGroup, extra ...client.Object) (*ChatGroupReconciler, *v1alpha1.ChatGroup, *events.FakeRecorder) {
	t.Helper()
	c := clientfake.NewClientBuilder().
		WithScheme(testScheme).
		WithStatusSubresource(&v1alpha1.ChatGroup{}).
		WithObjects(append([]client.Object{cg}, extra...)...).
		WithIndex(&v1alpha1.ChatGroup{}, groupIDIndex, indexGroupID).
		Build()
	obj := &v1alpha1.ChatGroup{}
	NewWithT(t).Expect(c.Get(t.Context(), client.ObjectKeyFromObject(cg), obj)).To(Succeed())
	rec := events.NewFakeRecorder(100)
	return &ChatGroupReconciler{Client: c, Recorder: rec}, obj, rec
}

// stored reads cg's current state from the reconciler's client.
func stored(t *testing.T, r *ChatGroupReconciler, cg *v1alpha1.ChatGroup) *v1alpha1.ChatGroup {
	t.Helper()
	got := &v1alpha1.ChatGroup{}
	NewWithT(t).Expect(r.Get(t.Context(), client.ObjectKeyFromObject(cg), got)).To(Succeed())
	return got
}

// drainEvents returns the events recorded so far.
func drainEvents(rec *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func asStalled(g *WithT, err error) *reasonError {
	var se *reasonError
	g.Expect(errors.As(err, &se) && se.stalled).To(BeTrue(), "want a stalled error, got %v", err)
	return se
}

func observeExisting(id string) func(context.Context, string, vendors.GroupSpec) (vendors.Observation, error) {
	return func(_ context.Context, got string, _ vendors.GroupSpec) (vendors.Observation, error) {
		return vendors.Observation{Exists: true, UpToDate: true, Group: vendors.ObservedGroup{ID: got, Members: []string{"owner1"}}}, nil
	}
}

func TestChatGroupReconciler_locateGroup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		obj   *v1alpha1.ChatGroup
		gc    func() *fake.GroupClient
		check func(t *testing.T, g *WithT, r *ChatGroupReconciler, obj *v1alpha1.ChatGroup, gc *fake.GroupClient, rec *events.FakeRecorder, obs vendors.Observation, found bool, err error)
	}{
		{
			name: "nothing bound: a group has to be created",
			obj:  stepGroup(),
			gc:   func() *fake.GroupClient { return &fake.GroupClient{} },
			check: func(t *testing.T, g *WithT, r *ChatGroupReconciler, obj *v1alpha1.ChatGroup, gc *fake.GroupClient, rec *events.FakeRecorder, obs vendors.Observation, found bool, err error) {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(found).To(BeFalse())
				g.Expect(gc.Calls()).To(BeEmpty())
			},
		},
		{
			name: "bound group exists",
			obj:  stepGroup(withAnnotation(v1alpha1.GroupIDAnnotation, "grp-7")),
			gc:   func() *fake.GroupClient { return &fake.GroupClient{ObserveFn: observeExisting("grp-7")} },
			check: func(t *testing.T, g *WithT, r *ChatGroupReconciler, obj *v1alpha1.ChatGroup, gc *fake.GroupClient, rec *events.FakeRecorder, obs vendors.Observation, found bool, err error) {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(found).To(BeTrue())
				g.Expect(obs.Group.ID).To(Equal("grp-7"))
				g.Expect(gc.Count(fake.OpObserve, func(c fake.Call) bool { return c.ID == "grp-7" })).To(Equal(1))
				g.Expect(gc.Calls()).To(HaveLen(1))
			},
		},
		{
			name: "bound group gone stalls with GroupNotFound",
			obj:  stepGroup(withAnnotation(v1alpha1.GroupIDAnnotation, "grp-7")),
			gc: func() *fake.GroupClient {
				return &fake.GroupClient{ObserveFn: func(context.Context, string, vendors.GroupSpec) (vendors.Observation, error) {
					return vendors.Observation{Exists: false}, nil
				}}
			},
			check: func(t *testing.T, g *WithT, r *ChatGroupReconciler, obj *v1alpha1.ChatGroup, gc *fake.GroupClient, rec *events.FakeRecorder, obs vendors.Observation, found bool, err error) {
				g.Expect(found).To(BeFalse())
				se := asStalled(g, err)
				g.Expect(se.reason).To(Equal(v1alpha1.GroupNotFoundReason))
				g.Expect(se.message).To(ContainSubstring("grp-7"))
				g.Expect(gc.Count(fake.OpObserve, nil)).To(Equal(1))
				g.Expect(gc.Count(fake.OpCreate, nil)).To(Equal(0))
				g.Expect(gc.Count(fake.OpFind, nil)).To(Equal(0))
			},
		},
		{
			name: "adoptGroupID differing from the bound group stalls without a vendor call",
			obj: stepGroup(withAnnotation(v1alpha1.GroupIDAnnotation, "grp-7"), func(cg *v1alpha1.ChatGroup) {
				cg.Spec.AdoptGroupID = "grp-8"
			}),
			gc: func() *fake.GroupClient { return &fake.GroupClient{ObserveFn: observeExisting("")} },
			check: func(t *testing.T, g *WithT, r *ChatGroupReconciler, obj *v1alpha1.ChatGroup, gc *fake.GroupClient, rec *events.FakeRecorder, obs vendors.Observation, found bool, err error) {
				g.Expect(found).To(BeFalse())
				se := asStalled(g, err)
				g.Expect(se.reason).To(Equal(v1alpha1.InvalidSpecReason))
				g.Expect(se.message).To(ContainSubstring("spec.adoptGroupID"))
				g.Expect(se.message).To(And(ContainSubstring("grp-7"), ContainSubstring("grp-8")))
				g.Expect(gc.Calls()).To(BeEmpty())
				g.Expect(stored(t, r, obj).Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, "grp-7"))
			},
		},
		{
			name: "adoptGroupID equal to the bound group is not a conflict",
			obj: stepGroup(withAnnotation(v1alpha1.GroupIDAnnotation, "grp-7"), func(cg *v1alpha1.ChatGroup) {
				cg.Spec.AdoptGroupID = "grp-7"
			}),
			gc: func() *fake.GroupClient { return &fake.GroupClient{ObserveFn: observeExisting("grp-7")} },
			check: func(t *testing.T, g *WithT, r *ChatGroupReconciler, obj *v1alpha1.ChatGroup, gc *fake.GroupClient, rec *events.FakeRecorder, obs vendors.Observation, found bool, err error) {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(found).To(BeTrue())
				g.Expect(gc.Count(fake.OpObserve, nil)).To(Equal(1))
			},
		},
		{
			name: "adopting an existing group writes the annotation",
			obj: stepGroup(func(cg *v1alpha1.ChatGroup) {
				cg.Spec.AdoptGroupID = "grp-9"
			}),
			gc: func() *fake.GroupClient { return &fake.GroupClient{ObserveFn: observeExisting("grp-9")} },
			check: func(t *testing.T, g *WithT, r *ChatGroupReconciler, obj *v1alpha1.ChatGroup, gc *fake.GroupClient, rec *events.FakeRecorder, obs vendors.Observation, found bool, err error) {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(found).To(BeTrue())
				g.Expect(gc.Count(fake.OpObserve, func(c fake.Call) bool { return c.ID == "grp-9" })).To(Equal(1))
				g.Expect(gc.Calls()).To(HaveLen(1))
				g.Expect(stored(t, r, obj).Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, "grp-9"))
				g.Expect(obj.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, "grp-9"))
				g.Expect(obj.Status.GroupID).To(Equal("grp-9"))
				g.Expect(drainEvents(rec)).To(ConsistOf(HavePrefix("Normal " + v1alpha1.AdoptedReason + " ")))
			},
		},
		{
			name: "adopting a group that does not exist stalls",
			obj: stepGroup(func(cg *v1alpha1.ChatGroup) {
				cg.Spec.AdoptGroupID = "grp-9"
			}),
			gc: func() *fake.GroupClient {
				return &fake.GroupClient{ObserveFn: func(context.Context, string, vendors.GroupSpec) (vendors.Observation, error) {
					return vendors.Observation{}, nil
				}}
			},
			check: func(t *testing.T, g *WithT, r *ChatGroupReconciler, obj *v1alpha1.ChatGroup, gc *fake.GroupClient, rec *events.FakeRecorder, obs vendors.Observation, found bool, err error) {
				g.Expect(found).To(BeFalse())
				se := asStalled(g, err)
				g.Expect(se.reason).To(Equal(v1alpha1.InvalidSpecReason))
				g.Expect(se.message).To(HavePrefix("spec.adoptGroupID"))
				g.Expect(stored(t, r, obj).Annotations).NotTo(HaveKey(v1alpha1.GroupIDAnnotation))
			},
		},
		{
			name: "create-pending with two matches stalls with CreateIncomplete",
			obj:  stepGroup(withAnnotation(v1alpha1.CreatePendingAnnotation, "true")),
			gc: func() *fake.GroupClient {
				return &fake.GroupClient{
					FindFn: func(context.Context, vendors.GroupSpec) ([]string, error) { return []string{"grp-1", "grp-2"}, nil },
					ObserveFn: func(_ context.Context, id string, _ vendors.GroupSpec) (vendors.Observation, error) {
						if id == "grp-2" {
							return vendors.Observation{}, errors.New("unreadable")
						}
						return vendors.Observation{Exists: true, Group: vendors.ObservedGroup{ID: id, Name: "Team", Members: []string{"a", "b", "c"}}}, nil
					},
				}
			},
			check: func(t *testing.T, g *WithT, r *ChatGroupReconciler, obj *v1alpha1.ChatGroup, gc *fake.GroupClient, rec *events.FakeRecorder, obs vendors.Observation, found bool, err error) {
				g.Expect(found).To(BeFalse())
				se := asStalled(g, err)
				g.Expect(se.reason).To(Equal(v1alpha1.CreateIncompleteReason))
				// Each candidate with what the vendor says of it, and the step that resolves it.
				g.Expect(se.message).To(And(ContainSubstring(`grp-1 ("Team", 3 members), grp-2;`), ContainSubstring("set spec.adoptGroupID to the one to keep")))
				g.Expect(gc.Count(fake.OpFind, func(c fake.Call) bool { return c.Spec.UID == "uid-steps" })).To(Equal(1))
				g.Expect(gc.Count(fake.OpCreate, nil)).To(Equal(0))
				g.Expect(gc.Count(fake.OpObserve, nil)).To(Equal(2), "each candidate is read to describe it")
				s := stored(t, r, obj)
				g.Expect(s.Annotations).To(HaveKey(v1alpha1.CreatePendingAnnotation))
				g.Expect(s.Annotations).NotTo(HaveKey(v1alpha1.GroupIDAnnotation))
			},
		},
		{
			name: "create-pending with one match adopts it",
			obj:  stepGroup(withAnnotation(v1alpha1.CreatePendingAnnotation, "true")),
			gc: func() *fake.GroupClient {
				return &fake.GroupClient{
					FindFn:    func(context.Context, vendors.GroupSpec) ([]string, error) { return []string{"grp-1"}, nil },
					ObserveFn: observeExisting("grp-1"),
				}
			},
			check: func(t *testing.T, g *WithT, r *ChatGroupReconciler, obj *v1alpha1.ChatGroup, gc *fake.GroupClient, rec *events.FakeRecorder, obs vendors.Observation, found bool, err error) {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(found).To(BeTrue())
				g.Expect(gc.Count(fake.OpFind, nil)).To(Equal(1))
				g.Expect(gc.Count(fake.OpObserve, func(c fake.Call) bool { return c.ID == "grp-1" })).To(Equal(1))
				g.Expect(gc.Count(fake.OpCreate, nil)).To(Equal(0))
				s := stored(t, r, obj)
				g.Expect(s.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, "grp-1"))
				g.Expect(s.Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation))
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			r, obj, rec := stepReconciler(t, tc.obj)
			gc := tc.gc()
			obs, found, err := r.locateGroup(t.Context(), obj, gc, desiredGroup(obj, vendors.Registration{}), 0)
			tc.check(t, g, r, obj, gc, rec, obs, found, err)
		})
	}

	t.Run("reconcileGroup never creates while create-pending matches are ambiguous", func(t *testing.T) {
		g := NewWithT(t)
		r, obj, _ := stepReconciler(t, stepGroup(withAnnotation(v1alpha1.CreatePendingAnnotation, "true")))
		gc := &fake.GroupClient{
			FindFn: func(context.Context, vendors.GroupSpec) ([]string, error) { return []string{"grp-1", "grp-2"}, nil },
			CreateFn: func(context.Context, vendors.GroupSpec) (vendors.ObservedGroup, error) {
				return vendors.ObservedGroup{ID: "grp-3"}, nil
			},
		}
		_, err := r.reconcileGroup(t.Context(), obj, gc, vendors.Registration{})
		g.Expect(asStalled(g, err).reason).To(Equal(v1alpha1.CreateIncompleteReason))
		g.Expect(gc.Count(fake.OpCreate, nil)).To(Equal(0))
	})
}

func TestChatGroupReconciler_createGroup(t *testing.T) {
	for _, tc := range []struct {
		name          string
		createErr     error
		wantErr       error // nil: success
		wantPending   bool
		wantGroupID   string
		wantEventPref string
		additive      bool
		wantAdded     []string
	}{
		{
			name:          "success binds the group; Authoritative keeps no record of added members",
			wantGroupID:   "grp-new",
			wantEventPref: "Normal " + v1alpha1.CreatedReason + " ",
		},
		{
			name:          "success under Additive records the members added",
			additive:      true,
			wantGroupID:   "grp-new",
			wantEventPref: "Normal " + v1alpha1.CreatedReason + " ",
			wantAdded:     []string{"u1", "u2"},
		},
		{
			name:        "invalid (definite) removes create-pending",
			createErr:   &vendors.Error{Class: vendors.ErrInvalid, Op: "create group", Message: "bad member", Field: "members"},
			wantErr:     vendors.ErrInvalid,
			wantPending: false,
		},
		{
			name:        "rate limited (definite) removes create-pending",
			createErr:   &vendors.Error{Class: vendors.ErrRateLimited, Op: "create group", RetryAfter: time.Second},
			wantErr:     vendors.ErrRateLimited,
			wantPending: false,
		},
		{
			name:        "unavailable (maybe applied) keeps create-pending",
			createErr:   vendors.NewError(vendors.ErrUnavailable, "create group", "", "timeout"),
			wantErr:     vendors.ErrUnavailable,
			wantPending: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cg := stepGroup()
			if tc.additive {
				cg.Spec.MemberPolicy = v1alpha1.Additive
			}
			r, obj, rec := stepReconciler(t, cg)
			var pendingDuringCreate bool
			gc := &fake.GroupClient{
				CreateFn: func(ctx context.Context, want vendors.GroupSpec) (vendors.ObservedGroup, error) {
					// create-pending must be stored before the vendor call.
					cur := &v1alpha1.ChatGroup{}
					if err := r.Get(ctx, client.ObjectKeyFromObject(obj), cur); err == nil {
						pendingDuringCreate = cur.Annotations[v1alpha1.CreatePendingAnnotation] != ""
					}
					if tc.createErr != nil {
						return vendors.ObservedGroup{}, tc.createErr
					}
					return vendors.ObservedGroup{ID: "grp-new", Members: []string{"owner1", "u1", "u2"}}, nil
				},
			}

			_, err := r.createGroup(t.Context(), obj, gc, desiredGroup(obj, vendors.Registration{}))

			g.Expect(gc.Count(fake.OpCreate, func(c fake.Call) bool { return c.Spec.UID == "uid-steps" })).To(Equal(1))
			g.Expect(gc.Calls()).To(HaveLen(1))
			g.Expect(pendingDuringCreate).To(BeTrue(), "create-pending is written before Create")
			s := stored(t, r, obj)
			if tc.wantErr != nil {
				g.Expect(err).To(MatchError(tc.wantErr))
				g.Expect(s.Annotations).NotTo(HaveKey(v1alpha1.GroupIDAnnotation))
			} else {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(s.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, tc.wantGroupID))
				g.Expect(obj.Status.GroupID).To(Equal(tc.wantGroupID))
				g.Expect(obj.Status.MemberCount).To(Equal(int32(3)))
				g.Expect(obj.Status.AddedMembers).To(Equal(tc.wantAdded))
			}
			if tc.wantPending {
				g.Expect(s.Annotations).To(HaveKey(v1alpha1.CreatePendingAnnotation))
			} else {
				g.Expect(s.Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation))
			}
			g.Expect(s.Annotations).To(Equal(obj.Annotations), "in-memory metadata follows the stored object")
			evs := drainEvents(rec)
			if tc.wantEventPref != "" {
				g.Expect(evs).To(ConsistOf(HavePrefix(tc.wantEventPref)))
			} else {
				g.Expect(evs).To(BeEmpty())
			}
		})
	}
}

func TestChatGroupReconciler_reconcileDelete(t *testing.T) {
	deleting := func(cg *v1alpha1.ChatGroup) {
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		cg.DeletionTimestamp = &now
		metav1SetAnnotation(cg, v1alpha1.GroupIDAnnotation, "grp-1")
	}
	for _, tc := range []struct {
		name          string
		policy        v1alpha1.DeletionPolicy
		suspend       bool
		deleteErr     error
		wantDeletes   int
		wantFinalizer bool
		wantReason    string // outcome reason; "" for none
		wantErr       bool
		wantRequeue   bool
		wantEventPref string
	}{
		{
			name:          "Orphan makes no vendor call and removes the finalizer",
			policy:        v1alpha1.Orphan,
			wantEventPref: "Normal " + v1alpha1.OrphanedReason + " ",
		},
		{
			name:          "Delete while suspended orphans",
			policy:        v1alpha1.Delete,
			suspend:       true,
			wantEventPref: "Normal " + v1alpha1.OrphanedReason + " ",
		},
		{
			name:          "Delete succeeds",
			policy:        v1alpha1.Delete,
			wantDeletes:   1,
			wantEventPref: "Normal " + v1alpha1.DeletedReason + " ",
		},
		{
			name:          "Delete of a group already gone counts as done",
			policy:        v1alpha1.Delete,
			deleteErr:     vendors.NewError(vendors.ErrNotFound, "delete group", "10010", "group dismissed"),
			wantDeletes:   1,
			wantEventPref: "Normal " + v1alpha1.DeletedReason + " ",
		},
		{
			name:          "Delete failing transiently keeps the finalizer",
			policy:        v1alpha1.Delete,
			deleteErr:     vendors.NewError(vendors.ErrUnavailable, "delete group", "", "503"),
			wantDeletes:   1,
			wantFinalizer: true,
			wantReason:    v1alpha1.DeleteFailedReason,
			wantErr:       true,
		},
		{
			name:          "Delete rejected credentials keeps the finalizer and requeues",
			policy:        v1alpha1.Delete,
			deleteErr:     vendors.NewError(vendors.ErrUnauthorized, "delete group", "", "bad secret"),
			wantDeletes:   1,
			wantFinalizer: true,
			wantReason:    v1alpha1.DeleteFailedReason,
			wantRequeue:   true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			gc := &fake.GroupClient{DeleteFn: func(context.Context, string) error { return tc.deleteErr }}
			provider := unitProvider(stepNamespace, providerName(v1alpha1.TencentIM), v1alpha1.TencentIM, "creds")
			secret := credentialsSecret(stepNamespace, "creds", v1alpha1.TencentIM, "s3cr3t")
			cg := stepGroup(deleting, func(cg *v1alpha1.ChatGroup) {
				cg.Spec.DeletionPolicy = tc.policy
				cg.Spec.Suspend = tc.suspend
			})
			r, obj, rec := stepReconciler(t, cg, provider, secret)
			r.Connections = &Connections{
				APIReader: r.Client,
				Vendors:   testVendors(&fake.Connector{Client: gc}),
				Limiters:  vendors.NewLimiters(nil),
			}

			out, res, err := r.reconcileDelete(t.Context(), obj)

			g.Expect(gc.Count(fake.OpDelete, func(c fake.Call) bool { return c.ID == "grp-1" })).To(Equal(tc.wantDeletes))
			g.Expect(gc.Calls()).To(HaveLen(tc.wantDeletes))
			g.Expect(out.reason).To(Equal(tc.wantReason))
			if tc.wantReason != "" {
				g.Expect(out.state).To(Equal(stateRetrying))
				g.Expect(out.message).To(ContainSubstring("grp-1"))
			}
			if tc.wantErr {
				g.Expect(err).To(HaveOccurred())
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			g.Expect(res.RequeueAfter > 0).To(Equal(tc.wantRequeue))

			g.Expect(controllerutil.ContainsFinalizer(obj, v1alpha1.ChatGroupFinalizer)).To(Equal(tc.wantFinalizer))
			cur := &v1alpha1.ChatGroup{}
			getErr := r.Get(t.Context(), client.ObjectKeyFromObject(obj), cur)
			if tc.wantFinalizer {
				g.Expect(getErr).NotTo(HaveOccurred())
				g.Expect(cur.Finalizers).To(ContainElement(v1alpha1.ChatGroupFinalizer))
			} else {
				// The last finalizer is gone, so the fake client deletes the object.
				g.Expect(apierrors.IsNotFound(getErr)).To(BeTrue(), "want NotFound, got %v (finalizers %v)", getErr, cur.Finalizers)
			}

			evs := drainEvents(rec)
			if tc.wantEventPref != "" {
				g.Expect(evs).To(ConsistOf(HavePrefix(tc.wantEventPref)))
			} else {
				g.Expect(evs).To(BeEmpty())
			}
		})
	}

	t.Run("without the finalizer nothing happens", func(t *testing.T) {
		g := NewWithT(t)
		gc := &fake.GroupClient{}
		r, obj, rec := stepReconciler(t, stepGroup(withAnnotation(v1alpha1.GroupIDAnnotation, "grp-1"), func(cg *v1alpha1.ChatGroup) {
			cg.Finalizers = nil
			cg.Spec.DeletionPolicy = v1alpha1.Delete
		}))
		out, res, err := r.reconcileDelete(t.Context(), obj)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(out).To(Equal(outcome{}))
		g.Expect(res.RequeueAfter).To(BeZero())
		g.Expect(gc.Calls()).To(BeEmpty())
		g.Expect(drainEvents(rec)).To(BeEmpty())
	})
}

func TestChatGroupReconciler_createGroup_partialCreateKeepsTheID(t *testing.T) {
	g := NewWithT(t)
	r, obj, _ := stepReconciler(t, stepGroup())
	gc := &fake.GroupClient{
		CreateFn: func(context.Context, vendors.GroupSpec) (vendors.ObservedGroup, error) {
			return vendors.ObservedGroup{ID: "grp-partial"}, vendors.NewError(vendors.ErrUnavailable, "add members", "", "timeout")
		},
	}
	_, err := r.createGroup(t.Context(), obj, gc, desiredGroup(obj, vendors.Registration{}))
	g.Expect(err).To(MatchError(vendors.ErrUnavailable), "the failed follow-up is retried")
	s := stored(t, r, obj)
	g.Expect(s.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, "grp-partial"), "the group exists: its ID is recorded")
	g.Expect(s.Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation))
}

func TestChatGroupReconciler_locateGroup_readsPastAStaleCache(t *testing.T) {
	g := NewWithT(t)
	// The cache (Client) has not seen the group ID a previous pass recorded; the
	// API server (APIReader) has.
	r, obj, _ := stepReconciler(t, stepGroup())
	r.APIReader = clientfake.NewClientBuilder().WithScheme(testScheme).
		WithObjects(stepGroup(withAnnotation(v1alpha1.GroupIDAnnotation, "grp-recorded"))).Build()
	gc := &fake.GroupClient{ObserveFn: observeExisting("grp-recorded")}

	obs, found, err := r.locateGroup(t.Context(), obj, gc, desiredGroup(obj, vendors.Registration{}), 0)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(found).To(BeTrue())
	g.Expect(obs.Group.ID).To(Equal("grp-recorded"))
	g.Expect(gc.Count(fake.OpCreate, nil)+gc.Count(fake.OpFind, nil)).To(Equal(0), "no second create, no lookup")
}

func TestStalledByOwnSpec(t *testing.T) {
	for _, tc := range []struct {
		name string
		cond *metav1.Condition
		want bool
	}{
		{name: "not stalled", want: false},
		{name: "stalled by the vendor refusing the spec",
			cond: &metav1.Condition{Type: v1alpha1.StalledCondition, Status: metav1.ConditionTrue, Reason: v1alpha1.InvalidSpecReason, ObservedGeneration: 1}, want: true},
		{name: "stalled on a vendor mismatch a provider change can fix",
			cond: &metav1.Condition{Type: v1alpha1.StalledCondition, Status: metav1.ConditionTrue, Reason: v1alpha1.VendorMismatchReason, ObservedGeneration: 1}, want: false},
		{name: "stalled for an older generation",
			cond: &metav1.Condition{Type: v1alpha1.StalledCondition, Status: metav1.ConditionTrue, Reason: v1alpha1.InvalidSpecReason, ObservedGeneration: 0}, want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cg := stepGroup()
			if tc.cond != nil {
				cg.Status.Conditions = []metav1.Condition{*tc.cond}
			}
			NewWithT(t).Expect(stalledByOwnSpec(cg)).To(Equal(tc.want))
		})
	}
}

func TestChatGroupReconciler_recoverCreate_certainlyNoGroupAllowsACreate(t *testing.T) {
	g := NewWithT(t)
	r, obj, _ := stepReconciler(t, stepGroup(withAnnotation(v1alpha1.CreatePendingAnnotation, "true")))
	gc := &fake.GroupClient{
		FindFn: func(context.Context, vendors.GroupSpec) ([]string, error) {
			return nil, vendors.NewError(vendors.ErrNotFound, "get group", "", "no group cg-uid-steps")
		},
		CreateFn: func(context.Context, vendors.GroupSpec) (vendors.ObservedGroup, error) {
			return vendors.ObservedGroup{ID: "cg-uid-steps"}, nil
		},
	}
	g.Expect(r.reconcileGroup(t.Context(), obj, gc, vendors.Registration{})).Error().NotTo(HaveOccurred())
	g.Expect(gc.Count(fake.OpCreate, nil)).To(Equal(1))
	g.Expect(stored(t, r, obj).Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, "cg-uid-steps"))
}
