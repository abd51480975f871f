package vendors

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"
)

// codeCheck reads answers of the form "ok" or "err:<code>" through a code table.
func codeCheck(api string, r Response) error {
	body := string(r.Body)
	if r.Status == http.StatusOK && body == "ok" {
		return nil
	}
	code, _ := strings.CutPrefix(body, "err:")
	return NewError(Codes{"busy": ErrRateLimited, "bad": ErrInvalid}.Class(code), api, code, "vendor says "+body)
}

func TestCaller_Do(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte("ok"))
		case "/redirect":
			http.Redirect(w, r, "/ok?token="+r.URL.Query().Get("token"), http.StatusFound)
		case "/echo":
			_, _ = w.Write([]byte("err:weird token=" + r.URL.Query().Get("token") + " sig=" + r.Header.Get("X-Sig")))
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", MaxBody+1)))
		case "/busy":
			_, _ = w.Write([]byte("err:busy"))
		default:
			_, _ = w.Write([]byte("err:bad"))
		}
	}))
	defer srv.Close()
	sign := func(r *http.Request) []string { r.Header.Set("X-Sig", "sig-SECRET"); return []string{"sig-SECRET"} }

	for _, tc := range []struct {
		name      string
		reqs      []Request
		pass      bool
		wantHits  int
		wantClass error  // of the last call's error; nil for success
		wantText  string // the last error contains it
		noText    []string
	}{
		{name: "success", reqs: []Request{{API: "get", URL: srv.URL + "/ok"}}, wantHits: 1},
		{name: "a read is repeated without a pass", reqs: []Request{
			{API: "get", URL: srv.URL + "/ok", ReadKey: "g1"}, {API: "get", URL: srv.URL + "/ok", ReadKey: "g1"},
		}, wantHits: 2},
		{name: "a pass answers a repeated read from the first", pass: true, reqs: []Request{
			{API: "get", URL: srv.URL + "/ok", ReadKey: "g1"}, {API: "get", URL: srv.URL + "/ok", ReadKey: "g1"},
			{API: "get", URL: srv.URL + "/ok", ReadKey: "g2"},
		}, wantHits: 2},
		{name: "a write ends the reuse of reads", pass: true, reqs: []Request{
			{API: "get", URL: srv.URL + "/ok", ReadKey: "g1"}, {API: "set", URL: srv.URL + "/ok", Write: true},
			{API: "get", URL: srv.URL + "/ok", ReadKey: "g1"},
		}, wantHits: 3},
		{name: "a failed write ends it too", pass: true, reqs: []Request{
			{API: "get", URL: srv.URL + "/ok", ReadKey: "g1"}, {API: "set", URL: srv.URL + "/bad", Write: true},
			{API: "get", URL: srv.URL + "/ok", ReadKey: "g1"},
		}, wantHits: 3},
		{name: "a documented caller mistake", reqs: []Request{{API: "set", URL: srv.URL + "/bad"}},
			wantHits: 1, wantClass: ErrInvalid, wantText: "set: invalid request (bad)"},
		{name: "an unknown code is unavailable, with the vendor's code and text",
			reqs:     []Request{{API: "get", URL: srv.URL + "/echo?token=TOKEN", Secrets: []string{"TOKEN"}, Sign: sign}},
			wantHits: 1, wantClass: ErrUnavailable, wantText: "(weird token=[redacted] sig=[redacted])",
			noText: []string{"TOKEN", "sig-SECRET"}},
		{name: "a redirect is refused, not followed",
			reqs:     []Request{{API: "get", URL: srv.URL + "/redirect?token=TOKEN", Secrets: []string{"TOKEN"}}},
			wantHits: 1, wantClass: ErrUnavailable, noText: []string{"TOKEN"}},
		{name: "an oversized answer is unavailable, never cut", reqs: []Request{{API: "get", URL: srv.URL + "/big"}},
			wantHits: 1, wantClass: ErrUnavailable, wantText: "larger than"},
		{name: "a transport failure drops the URL with its credentials",
			reqs:      []Request{{API: "get", URL: "http://127.0.0.1:1/x?token=TOKEN"}},
			wantClass: ErrUnavailable, noText: []string{"TOKEN", "127.0.0.1:1/x?"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			hits.Store(0)
			c := NewCaller(nil, codeCheck, BuildOptions())
			ctx := context.Background()
			if tc.pass {
				ctx = WithPassReads(ctx)
			}
			var err error
			for _, r := range tc.reqs {
				_, err = c.Do(ctx, r)
			}
			g.Expect(int(hits.Load())).To(Equal(tc.wantHits))
			if tc.wantClass == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(errors.Is(err, tc.wantClass)).To(BeTrue(), "got %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tc.wantText))
			for _, s := range tc.noText {
				g.Expect(err.Error()).NotTo(ContainSubstring(s))
			}
		})
	}
}

func TestCaller_ThrottleHoldsTheAPI(t *testing.T) {
	g := NewWithT(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("err:busy"))
	}))
	defer srv.Close()
	lim := NewLimiter(Limits{QPS: 100, Burst: 10}, clocktesting.NewFakePassiveClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	check := func(api string, r Response) error {
		e := codeCheck(api, r).(*Error)
		e.RetryAfter = time.Hour
		return e
	}
	c := NewCaller(lim, check, BuildOptions())

	_, err := c.Do(context.Background(), Request{API: "get", URL: srv.URL})
	g.Expect(errors.Is(err, ErrRateLimited)).To(BeTrue())
	_, err = c.Do(context.Background(), Request{API: "get", URL: srv.URL})
	g.Expect(errors.Is(err, ErrRateLimited)).To(BeTrue())
	g.Expect(int(hits.Load())).To(Equal(1), "the vendor's delay is noted: the second call never left")
}

func TestCodes_UnknownIsUnavailable(t *testing.T) {
	g := NewWithT(t)
	codes := Codes{"documented": ErrInvalid}
	g.Expect(codes.Class("documented")).To(Equal(ErrInvalid))
	g.Expect(codes.Class("new-in-the-vendor")).To(Equal(ErrUnavailable))
	g.Expect(codes.Class("")).To(Equal(ErrUnavailable))
}

// TestCaller_SentOrNot: a request that never reached the vendor is definite
// (ErrBusy); one that was written and then lost its answer is ambiguous.
func TestCaller_SentOrNot(t *testing.T) {
	g := NewWithT(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack() // applied, then the answer is lost
		_ = conn.Close()
	}))
	defer srv.Close()
	c := NewCaller(nil, codeCheck, ClientOptions{})

	_, err := c.Do(context.Background(), Request{API: "create", URL: srv.URL + "/create", Write: true})
	g.Expect(err).To(MatchError(ErrUnavailable))
	g.Expect(Definite(err)).To(BeFalse(), "the request was sent: %v", err)
	g.Expect(hits.Load()).To(BeEquivalentTo(1))

	closed := httptest.NewServer(http.NotFoundHandler())
	addr := closed.URL
	closed.Close() // nothing listens there any more: the dial fails
	_, err = c.Do(context.Background(), Request{API: "create", URL: addr + "/create?access_token=SECRET", Write: true})
	g.Expect(err).To(MatchError(ErrBusy))
	g.Expect(Definite(err)).To(BeTrue(), "the request never left: %v", err)
	g.Expect(err.Error()).NotTo(ContainSubstring("SECRET"))

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer slow.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.Do(ctx, Request{API: "create", URL: slow.URL + "/create", Write: true})
	g.Expect(err).To(MatchError(ErrUnavailable))
	g.Expect(Definite(err)).To(BeFalse(), "a timeout after the request was sent is ambiguous: %v", err)
}
