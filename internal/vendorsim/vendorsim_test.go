package vendorsim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestAllow(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakePassiveClock(time.Unix(100, 0))
	s := New(clk)
	for range 3 {
		g.Expect(s.Allow("app/create", 3)).To(BeTrue())
	}
	g.Expect(s.Allow("app/create", 3)).To(BeFalse(), "fourth call in the same second")
	g.Expect(s.Allow("app/update", 3)).To(BeTrue(), "limits are per key")
	g.Expect(s.Allow("app/create", 0)).To(BeTrue(), "0 is unlimited")
	clk.SetTime(clk.Now().Add(time.Second))
	g.Expect(s.Allow("app/create", 3)).To(BeTrue(), "a new second refills")
}

func TestWrap(t *testing.T) {
	applied := 0
	var mu sync.Mutex
	s := New(nil)
	h := s.Wrap("op",
		func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
		func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			applied++
			mu.Unlock()
			_, _ = io.WriteString(w, "done")
		})
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, tc := range []struct {
		name        string
		faults      Faults
		wantErr     bool
		wantStatus  int
		wantApplied int
		wantOutcome string
	}{
		{name: "no faults", wantStatus: 200, wantApplied: 1, wantOutcome: "ok"},
		{name: "injected error is not applied", faults: Faults{ErrorRate: 1}, wantStatus: 500, wantApplied: 0, wantOutcome: "injected"},
		{name: "dropped response was applied", faults: Faults{DropRate: 1}, wantErr: true, wantApplied: 1, wantOutcome: "dropped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			s.SetFaults(tc.faults)
			mu.Lock()
			applied = 0
			mu.Unlock()
			before := s.Count("op", tc.wantOutcome)
			resp, err := http.Post(srv.URL, "application/json", nil) // POST: the transport does not retry it
			if tc.wantErr {
				g.Expect(err).To(HaveOccurred())
			} else {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(resp.StatusCode).To(Equal(tc.wantStatus))
				_ = resp.Body.Close()
			}
			mu.Lock()
			g.Expect(applied).To(Equal(tc.wantApplied))
			mu.Unlock()
			g.Expect(s.Count("op", tc.wantOutcome)).To(Equal(before + 1))
		})
	}
}

func TestFailWithAndThrottleFor(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakePassiveClock(time.Unix(100, 0))
	s := New(clk)
	g.Expect(s.Failing("op")).To(BeEmpty())
	s.FailWith("op", "E1")
	g.Expect(s.Failing("op")).To(Equal("E1"))
	g.Expect(s.Failing("other")).To(BeEmpty(), "per operation")
	s.FailWith("op", "")
	g.Expect(s.Failing("op")).To(BeEmpty())

	g.Expect(s.Throttling()).To(BeFalse())
	s.ThrottleFor(2 * time.Second)
	g.Expect(s.Throttling()).To(BeTrue())
	clk.SetTime(clk.Now().Add(2 * time.Second))
	g.Expect(s.Throttling()).To(BeFalse(), "over on the simulator's clock")
}

func TestUnavailableFor(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakePassiveClock(time.Unix(100, 0))
	s := New(clk)
	applied := 0
	h := s.Wrap("op", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
		func(w http.ResponseWriter, _ *http.Request) { applied++ })
	call := func() int {
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(http.MethodPost, "/op", nil))
		return rec.Code
	}
	s.UnavailableFor(time.Minute)
	g.Expect(call()).To(Equal(http.StatusServiceUnavailable))
	g.Expect(applied).To(BeZero(), "nothing is applied during an outage")
	g.Expect(s.Count("op", "unavailable")).To(Equal(1))
	clk.SetTime(clk.Now().Add(time.Minute))
	g.Expect(s.Down()).To(BeFalse())
	g.Expect(call()).To(Equal(http.StatusOK))
	g.Expect(applied).To(Equal(1))
}
