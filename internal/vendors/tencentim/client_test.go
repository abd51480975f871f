package tencentim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// request is one call the stub vendor received.
type request struct {
	command string
	query   url.Values
	body    map[string]any
}

// stub is a scripted vendor: replies[command] are answered in order, the last
// one repeating; a reply is a JSON string or a func(body) string. Commands
// without a script answer OK.
type stub struct {
	mu       sync.Mutex
	replies  map[string][]any
	requests []request
}

func (s *stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	command := strings.TrimPrefix(r.URL.Path, "/v4/group_open_http_svc/")
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s.mu.Lock()
	n := 0
	for _, req := range s.requests {
		if req.command == command {
			n++
		}
	}
	s.requests = append(s.requests, request{command: command, query: r.URL.Query(), body: body})
	var reply any = ok("")
	if script := s.replies[command]; len(script) > 0 {
		reply = script[min(n, len(script)-1)]
	}
	s.mu.Unlock()
	if fn, isFn := reply.(func(map[string]any) string); isFn {
		reply = fn(body)
	}
	_, _ = io.WriteString(w, reply.(string))
}

// calls lists the commands received, in order.
func (s *stub) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.requests {
		out = append(out, r.command)
	}
	return out
}

// bodies returns the bodies received for command.
func (s *stub) bodies(command string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, r := range s.requests {
		if r.command == command {
			out = append(out, r.body)
		}
	}
	return out
}

// ok is a success response with extra JSON fields (`"A":1,"B":2`).
func ok(fields string) string {
	if fields != "" {
		fields = "," + fields
	}
	return `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""` + fields + `}`
}

// failed is an error response.
func failed(code int, info string) string {
	return `{"ActionStatus":"FAIL","ErrorCode":` + strconv.Itoa(code) + `,"ErrorInfo":` + strconv.Quote(info) + `}`
}

// newStubClient returns a Client talking to a stub with replies, dated by clk.
func newStubClient(t *testing.T, replies map[string][]any, clk *clocktesting.FakeClock, limiter *vendors.Limiter) (*Client, *stub) {
	t.Helper()
	s := &stub{replies: replies}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return connect(t, srv.URL, clk, limiter), s
}

func connect(t *testing.T, endpoint string, clk *clocktesting.FakeClock, limiter *vendors.Limiter) *Client {
	t.Helper()
	if clk == nil {
		clk = clocktesting.NewFakeClock(time.Unix(exampleTime, 0))
	}
	c, err := New(vendors.Credentials{
		Endpoint: endpoint, Settings: Settings{SDKAppID: exampleAppID, AdminIdentifier: exampleAdmin},
		Secret: map[string][]byte{"secretKey": []byte(exampleKey)}, Limiter: limiter,
	}, vendors.WithClock(clk))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return c
}

func TestConnect(t *testing.T) {
	good := vendors.Credentials{Settings: Settings{SDKAppID: exampleAppID, AdminIdentifier: exampleAdmin}, Secret: map[string][]byte{"secretKey": []byte("k")}}
	for _, tc := range []struct {
		name      string
		mod       func(*vendors.Credentials)
		wantBase  string
		wantClass error
		wantMsg   string
	}{
		{name: "empty endpoint is the China domain", wantBase: DefaultEndpoint},
		{name: "regional endpoint without trailing slash", mod: func(c *vendors.Credentials) { c.Endpoint = "https://adminapisgp.im.qcloud.com/" },
			wantBase: "https://adminapisgp.im.qcloud.com"},
		{name: "endpoint with a query", mod: func(c *vendors.Credentials) { c.Endpoint = "https://x.example?a=b" }, wantClass: vendors.ErrInvalid, wantMsg: "spec.endpoint"},
		{name: "endpoint without scheme", mod: func(c *vendors.Credentials) { c.Endpoint = "console.tim.qq.com" }, wantClass: vendors.ErrInvalid, wantMsg: "spec.endpoint"},
		{name: "no SDKAppID", mod: func(c *vendors.Credentials) { c.Settings = Settings{AdminIdentifier: exampleAdmin} }, wantClass: vendors.ErrInvalid, wantMsg: "sdkAppID"},
		{name: "no admin", mod: func(c *vendors.Credentials) { c.Settings = Settings{SDKAppID: exampleAppID} }, wantClass: vendors.ErrInvalid, wantMsg: "adminIdentifier"},
		{name: "no settings", mod: func(c *vendors.Credentials) { c.Settings = nil }, wantClass: vendors.ErrInvalid, wantMsg: "sdkAppID"},
		{name: "no secret key", mod: func(c *vendors.Credentials) { c.Secret = nil }, wantClass: vendors.ErrUnauthorized, wantMsg: "secretKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			creds := good
			if tc.mod != nil {
				tc.mod(&creds)
			}
			gc, err := NewConnector().Connect(context.Background(), creds)
			if tc.wantClass != nil {
				g.Expect(err).To(MatchError(tc.wantClass))
				g.Expect(err.Error()).To(ContainSubstring(tc.wantMsg))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(gc.(*Client).base).To(Equal(tc.wantBase))
		})
	}
}

func TestClientDo_Request(t *testing.T) {
	g := NewWithT(t)
	c, s := newStubClient(t, nil, nil, nil)
	g.Expect(c.do(context.Background(), write("destroy_group"), groupIDRequest{GroupID: "g1"}, nil)).To(Succeed())

	g.Expect(s.requests).To(HaveLen(1))
	r := s.requests[0]
	g.Expect(r.command).To(Equal("destroy_group"))
	g.Expect(r.body).To(Equal(map[string]any{"GroupId": "g1"}))
	g.Expect(r.query.Get("sdkappid")).To(Equal("1400000000"))
	g.Expect(r.query.Get("identifier")).To(Equal(exampleAdmin))
	g.Expect(r.query.Get("contenttype")).To(Equal("json"))
	_, err := strconv.ParseUint(r.query.Get("random"), 10, 32)
	g.Expect(err).NotTo(HaveOccurred(), "random is a 32-bit unsigned integer")
	doc := decodeSig(t, r.query.Get("usersig"))
	g.Expect(doc["TLS.identifier"]).To(Equal(exampleAdmin))
	g.Expect(doc["TLS.sdkappid"]).To(Equal(json.Number("1400000000")))
}

func TestClientDo_Outcomes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		handler   http.HandlerFunc
		wantClass error // nil: success
		wantCode  string
		wantCalls int
	}{
		{name: "OK", handler: answer(ok(`"GroupId":"g1"`)), wantCalls: 1},
		{name: "FAIL envelope is classified", handler: answer(failed(10004, "bad param")), wantClass: vendors.ErrInvalid, wantCode: "10004", wantCalls: 1},
		{name: "rate-limit code", handler: answer(failed(60007, "too frequent")), wantClass: vendors.ErrRateLimited, wantCode: "60007", wantCalls: 1},
		{name: "5xx is unavailable", handler: status(http.StatusBadGateway), wantClass: vendors.ErrUnavailable, wantCode: "502", wantCalls: 1},
		{name: "404 is unavailable and names the endpoint", handler: status(http.StatusNotFound), wantClass: vendors.ErrUnavailable, wantCode: "404", wantCalls: 1},
		{name: "redirects are not followed", handler: redirect, wantClass: vendors.ErrUnavailable, wantCode: "307", wantCalls: 1},
		{name: "HTML is unavailable", handler: answer("<html>hello</html>"), wantClass: vendors.ErrUnavailable, wantCalls: 1},
		{name: "lost response is unavailable", handler: hangUp, wantClass: vendors.ErrUnavailable, wantCalls: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			calls := 0
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				mu.Unlock()
				tc.handler(w, r)
			}))
			defer srv.Close()
			c := connect(t, srv.URL, nil, nil)
			var out createGroupResponse
			err := c.do(context.Background(), write("create_group"), createGroupRequest{Name: "n"}, &out)
			if tc.wantClass == nil {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(out.GroupID).To(Equal("g1"))
			} else {
				g.Expect(err).To(MatchError(tc.wantClass))
				var ve *vendors.Error
				g.Expect(errors.As(err, &ve)).To(BeTrue())
				g.Expect(ve.Code).To(Equal(tc.wantCode))
			}
			mu.Lock()
			defer mu.Unlock()
			g.Expect(calls).To(Equal(tc.wantCalls))
		})
	}
}

func answer(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) }
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

func redirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/elsewhere?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
}

func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, _ := w.(http.Hijacker).Hijack()
	_ = conn.Close()
}

func TestClientDo_ExpiredUserSig(t *testing.T) {
	for _, tc := range []struct {
		name      string
		script    []any
		wantErr   error
		wantCalls int
	}{
		{name: "70001 regenerates the UserSig and retries once", script: []any{failed(70001, "sig expired"), ok("")}, wantCalls: 2},
		{name: "70001 again after the retry is unauthorized", script: []any{failed(70001, "sig expired")}, wantErr: vendors.ErrUnauthorized, wantCalls: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			clk := clocktesting.NewFakeClock(time.Unix(exampleTime, 0))
			c, s := newStubClient(t, map[string][]any{"destroy_group": tc.script}, clk, nil)
			generated := numbered(c.signer)
			_, _ = c.signer.current() // cache a sig at exampleTime
			clk.Step(time.Hour)       // the vendor's clock says it expired

			err := c.do(context.Background(), write("destroy_group"), groupIDRequest{GroupID: "g"}, nil)
			if tc.wantErr == nil {
				g.Expect(err).NotTo(HaveOccurred())
			} else {
				g.Expect(err).To(MatchError(tc.wantErr))
				g.Expect(err.Error()).To(ContainSubstring("clock"))
			}
			g.Expect(s.calls()).To(HaveLen(tc.wantCalls))
			g.Expect(*generated).To(Equal(2), "one regeneration, however the retry ends")
			ttl := int64(userSigTTL / time.Second)
			g.Expect(expireOf(t, s.requests[0].query.Get("usersig"))).To(Equal(ttl + 1))
			g.Expect(expireOf(t, s.requests[1].query.Get("usersig"))).To(Equal(ttl+2), "the retry carries a regenerated sig")
			g.Expect(c.signer.expires).To(Equal(time.Unix(exampleTime+3600, 0).Add(userSigTTL)), "dated at the retry")
		})
	}
}

func TestClientDo_WaitsForTheLimiterBeforeEachCall(t *testing.T) {
	g := NewWithT(t)
	// One token and a refill far beyond MaxLimiterWait: the second call must be
	// refused by the limiter without reaching the vendor.
	lim := vendors.NewLimiter(vendors.Limits{QPS: 0.01, Burst: 1}, nil)
	c, s := newStubClient(t, nil, nil, lim)
	g.Expect(c.do(context.Background(), write("destroy_group"), groupIDRequest{GroupID: "g"}, nil)).To(Succeed())
	err := c.do(context.Background(), write("destroy_group"), groupIDRequest{GroupID: "g"}, nil)
	g.Expect(err).To(MatchError(vendors.ErrRateLimited))
	g.Expect(vendors.RetryAfter(err)).To(BeNumerically(">", vendors.MaxLimiterWait))
	g.Expect(s.calls()).To(HaveLen(1))
	g.Expect(c.do(context.Background(), read("get_group_info", "g"), groupInfoRequest{GroupIDs: []string{"g"}}, nil)).To(Succeed(), "one bucket per API")
}

// TestErrors_NeverCarryTheUserSigOrKey drives every failure path and checks the
// error text for the UserSig, the usersig parameter and the secret key.
func TestErrors_NeverCarryTheUserSigOrKey(t *testing.T) {
	refused := func() string { // a port nothing listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		return "http://" + addr
	}()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // answers only after the client gave up
	}))
	defer slow.Close()
	defer close(release)

	for _, tc := range []struct {
		name     string
		handler  http.HandlerFunc
		endpoint string
		ctx      func() (context.Context, context.CancelFunc)
	}{
		{name: "connection refused", endpoint: refused},
		{name: "timeout", endpoint: slow.URL, ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}},
		{name: "lost response", handler: hangUp},
		{name: "HTTP 500", handler: status(500)},
		{name: "redirect to a URL with the query", handler: redirect},
		{name: "signature rejected", handler: answer(failed(70009, "sig verify failed"))},
		{name: "vendor text quoting the request URL", handler: func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, failed(10004, "bad request "+r.URL.String()+" usersig="+r.URL.Query().Get("usersig")))
		}},
		{name: "malformed JSON", handler: answer(`{"ActionStatus":"OK","ErrorCode":0,"GroupId":`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			endpoint := tc.endpoint
			seenSigs := make(chan string, 1)
			if tc.handler != nil {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					seenSigs <- r.URL.Query().Get("usersig")
					tc.handler(w, r)
				}))
				defer srv.Close()
				endpoint = srv.URL
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			c := connect(t, endpoint, nil, nil)
			sig, _ := c.signer.current()
			var out createGroupResponse
			err := c.do(ctx, write("create_group"), createGroupRequest{Name: "n"}, &out)
			g.Expect(err).To(HaveOccurred())
			msg := err.Error()
			g.Expect(msg).NotTo(ContainSubstring(sig))
			if tc.handler != nil {
				g.Expect(msg).NotTo(ContainSubstring(<-seenSigs))
			}
			g.Expect(msg).NotTo(MatchRegexp(`usersig=[^\[]`), "a usersig parameter is redacted")
			g.Expect(msg).NotTo(ContainSubstring(exampleKey))
			g.Expect(msg).NotTo(ContainSubstring("&random="))
		})
	}
}
