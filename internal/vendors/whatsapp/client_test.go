package whatsapp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mutate    func(*vendors.Credentials)
		wantClass error
		wantHost  string
	}{
		{name: "empty endpoint is the Singapore default", mutate: func(c *vendors.Credentials) { c.Endpoint = "" }, wantHost: "cams.ap-southeast-1.aliyuncs.com"},
		{name: "custom endpoint", mutate: func(c *vendors.Credentials) { c.Endpoint = "http://127.0.0.1:8080" }, wantHost: "127.0.0.1:8080"},
		{name: "endpoint without scheme", mutate: func(c *vendors.Credentials) { c.Endpoint = "cams.example" }, wantClass: vendors.ErrInvalid},
		{name: "missing secret key", mutate: func(c *vendors.Credentials) { delete(c.Secret, "accessKeySecret") }, wantClass: vendors.ErrUnauthorized},
		{name: "missing key ID", mutate: func(c *vendors.Credentials) { c.Secret["accessKeyID"] = nil }, wantClass: vendors.ErrUnauthorized},
		{name: "missing custSpaceID", mutate: func(c *vendors.Credentials) { c.Settings = Settings{BusinessNumber: testBusiness} }, wantClass: vendors.ErrInvalid},
		{name: "missing businessNumber", mutate: func(c *vendors.Credentials) { c.Settings = Settings{CustSpaceID: testSpace} }, wantClass: vendors.ErrInvalid},
		{name: "no settings", mutate: func(c *vendors.Credentials) { c.Settings = nil }, wantClass: vendors.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			creds := testCredentials("https://cams.example")
			tc.mutate(&creds)
			c, err := New(creds)
			if tc.wantClass != nil {
				g.Expect(err).To(MatchError(tc.wantClass))
				g.Expect(err.Error()).NotTo(ContainSubstring(testSecret))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.endpoint.Host).To(Equal(tc.wantHost))
		})
	}
}

func TestConnector_Connect(t *testing.T) {
	g := NewWithT(t)
	gc, err := Connector{}.Connect(context.Background(), testCredentials(""))
	g.Expect(err).NotTo(HaveOccurred(), "the zero Connector is ready to use")
	g.Expect(gc).To(BeAssignableToTypeOf(&Client{}))
	g.Expect(gc.(*Client).endpoint.Host).To(Equal("cams.ap-southeast-1.aliyuncs.com"))
}

func TestNewConnector_ClientsUseTheOptions(t *testing.T) {
	g := NewWithT(t)
	f := newFakeCAMS(t)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	var sent int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent++
		return http.DefaultTransport.RoundTrip(r)
	})}
	at := time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC)
	gc, err := NewConnector(vendors.WithHTTPClient(hc), vendors.WithClock(clocktesting.NewFakeClock(at))).Connect(context.Background(), testCredentials(srv.URL))
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(gc.CheckCredentials(context.Background())).To(Succeed())
	g.Expect(sent).To(Equal(len(f.actions())), "every call through the given HTTP client (the list and the RAM action probes)")
	g.Expect(sent).To(BeNumerically(">", 1))
	g.Expect(f.callsOf("ListChatGroup")[0].Header.Get("x-acs-date")).To(Equal("2026-03-27T00:00:00Z"), "dated by the given clock")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestClient_SendsASignedRPCCall(t *testing.T) {
	g := NewWithT(t)
	f := newFakeCAMS(t)
	clock := clocktesting.NewFakeClock(time.Date(2026, 3, 27, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	c := newTestClient(t, f, vendors.WithClock(clock))

	g.Expect(c.read(context.Background(), "ListChatGroup", map[string]string{"Page": jsonParam(page{Index: 2, Size: 5}), "Subject": "SRE on-call"}, nil)).To(Succeed())

	calls := f.callsOf("ListChatGroup")
	g.Expect(calls).To(HaveLen(1))
	q, h := calls[0].Params, calls[0].Header
	g.Expect(q.Get("Page")).To(Equal(`{"Index":2,"Size":5}`), "structs travel as JSON strings")
	g.Expect(q.Get("Subject")).To(Equal("SRE on-call"))
	g.Expect(q.Get("ChannelType")).To(Equal("WHATSAPP"))
	g.Expect(h.Get("x-acs-date")).To(Equal("2026-03-27T00:00:00Z"), "UTC")
	g.Expect(h.Get("x-acs-signature-nonce")).To(MatchRegexp(`^[0-9a-f]{32}$`))
	g.Expect(h.Get("Authorization")).To(MatchRegexp(
		`^ACS3-HMAC-SHA256 Credential=` + testKeyID + `,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=[0-9a-f]{64}$`))

	g.Expect(c.read(context.Background(), "ListChatGroup", nil, nil)).To(Succeed())
	g.Expect(f.callsOf("ListChatGroup")[1].Header.Get("x-acs-signature-nonce")).NotTo(Equal(h.Get("x-acs-signature-nonce")), "a fresh nonce per call")
}

func TestClient_SuccessIsCodeOK(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		wantErr error
	}{
		{name: "Code OK with Success false, as the docs' sample shows", status: 200, body: `{"Code":"OK","Success":false,"Result":1}`},
		{name: "Code OK with Success true", status: 200, body: `{"Code":"OK","Success":true}`},
		{name: "another code on HTTP 200 is an error", status: 200, body: `{"Code":"InvalidParameter.Subject","Success":false,"Message":"bad subject"}`, wantErr: vendors.ErrInvalid},
		{name: "Code OK on HTTP 500 is an error", status: 500, body: `{"Code":"OK"}`, wantErr: vendors.ErrUnavailable},
		{name: "body without Code", status: 200, body: `{"Success":true}`, wantErr: vendors.ErrUnavailable},
		{name: "not JSON", status: 200, body: `<html>hello</html>`, wantErr: vendors.ErrUnavailable},
		{name: "a gateway's 503 page", status: 503, body: `<html>busy</html>`, wantErr: vendors.ErrBusy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeCAMS(t)
			f.respond = func(string, url.Values) (int, string) { return tc.status, tc.body }
			err := newTestClient(t, f).write(context.Background(), "UpdateChatGroup", map[string]string{"GroupId": "G1"}, nil)
			if tc.wantErr == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(tc.wantErr))
		})
	}
}

func TestClient_MapsErrors(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status       int
		code         string
		wantClass    error
		wantInMsg    string
		wantField    string
		wantDefinite bool
	}{
		{name: "user throttling", status: 400, code: "Throttling.User", wantClass: vendors.ErrRateLimited, wantDefinite: true},
		{name: "API throttling", status: 503, code: "Throttling.Api", wantClass: vendors.ErrRateLimited, wantDefinite: true},
		{name: "service unavailable: not processed", status: 503, code: "ServiceUnavailable", wantClass: vendors.ErrBusy, wantDefinite: true},
		{name: "internal error", status: 500, code: "InternalError", wantClass: vendors.ErrUnavailable},
		{name: "unknown 5xx", status: 502, code: "BadGateway", wantClass: vendors.ErrUnavailable},
		{name: "invalid subject", status: 400, code: "InvalidParameter.Subject", wantClass: vendors.ErrInvalid, wantField: "name", wantDefinite: true},
		{name: "invalid picture", status: 400, code: "InvalidParameter", wantClass: vendors.ErrInvalid, wantInMsg: "ProfilePictureFile", wantField: "icon", wantDefinite: true},
		{name: "missing parameter", status: 400, code: "MissingParameter", wantClass: vendors.ErrInvalid, wantDefinite: true},
		{name: "not on the allowlist", status: 403, code: "Forbidden.NotAllowlisted", wantClass: vendors.ErrAccessDenied, wantInMsg: "allowlist", wantDefinite: true},
		{name: "RAM denies the action", status: 403, code: "Forbidden.RAM", wantClass: vendors.ErrAccessDenied, wantInMsg: "cams:UpdateChatGroup", wantDefinite: true},
		{name: "no permission", status: 403, code: "NoPermission", wantClass: vendors.ErrAccessDenied, wantInMsg: "cams:UpdateChatGroup", wantDefinite: true},
		{name: "unknown AccessKey ID (HTTP 404 is not a missing group)", status: 404, code: "InvalidAccessKeyId.NotFound", wantClass: vendors.ErrUnauthorized, wantInMsg: "accessKeyID", wantDefinite: true},
		{name: "a wrong endpoint (HTTP 404 is not a missing group)", status: 404, code: "InvalidAction.NotFound", wantClass: vendors.ErrUnavailable, wantInMsg: "endpoint"},
		{name: "bad signature", status: 400, code: "SignatureDoesNotMatch", wantClass: vendors.ErrUnauthorized, wantInMsg: "accessKeySecret", wantDefinite: true},
		{name: "clock skew", status: 400, code: "InvalidTimeStamp.Expired", wantClass: vendors.ErrUnauthorized, wantInMsg: "clock", wantDefinite: true},
		{name: "reused nonce is transient and refused before the action", status: 400, code: "SignatureNonceUsed", wantClass: vendors.ErrBusy, wantDefinite: true},
		{name: "group not found", status: 404, code: "GroupNotExist", wantClass: vendors.ErrNotFound, wantDefinite: true},
		{name: "unknown 4xx code is retried, not a stall", status: 400, code: "GroupStatusInvalid", wantClass: vendors.ErrUnavailable, wantInMsg: "ProfilePictureFile"},
		{name: "unknown code on 401", status: 401, code: "Unauthenticated", wantClass: vendors.ErrUnavailable},
		{name: "unknown code on 404 is not a missing group", status: 404, code: "ChatGroupNotFound", wantClass: vendors.ErrUnavailable},
		{name: "unknown 429", status: 429, code: "TooMany", wantClass: vendors.ErrRateLimited, wantDefinite: true},
		{name: "unknown code on 503 is ambiguous: only the status without a code is definite", status: 503, code: "Overloaded", wantClass: vendors.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeCAMS(t)
			f.respond = func(string, url.Values) (int, string) {
				return tc.status, fmt.Sprintf(`{"Code":%q,"Message":"the vendor says ProfilePictureFile is wrong","RequestId":"R1"}`, tc.code)
			}
			err := newTestClient(t, f).write(context.Background(), "UpdateChatGroup", map[string]string{"GroupId": "G1"}, nil)
			g.Expect(err).To(MatchError(tc.wantClass))
			var ve *vendors.Error
			g.Expect(errors.As(err, &ve)).To(BeTrue())
			g.Expect(ve.Code).To(Equal(tc.code))
			g.Expect(ve.Op).To(Equal("UpdateChatGroup"))
			g.Expect(err.Error()).To(ContainSubstring(tc.wantInMsg))
			g.Expect(vendors.Definite(err)).To(Equal(tc.wantDefinite))
			if tc.wantField != "" {
				g.Expect(ve.Field).To(Equal(tc.wantField))
			}
			if tc.wantClass == vendors.ErrRateLimited {
				g.Expect(ve.RetryAfter).To(BeNumerically(">=", time.Second))
			}
		})
	}
}

func TestClient_HonoursRetryAfter(t *testing.T) {
	g := NewWithT(t)
	f := newFakeCAMS(t)
	f.respond = func(string, url.Values) (int, string) { return 400, `{"Code":"Throttling.User"}` }
	srv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		f.ServeHTTP(w, r)
	})
	err := newTestClient(t, srv).read(context.Background(), "ListChatGroup", nil, nil)
	g.Expect(vendors.RetryAfter(err)).To(Equal(7 * time.Second))
}

// hexRun matches anything that looks like a signature.
var hexRun = regexp.MustCompile(`[0-9a-f]{64}`)

func TestClient_ErrorsNeverContainSecretsOrSignatures(t *testing.T) {
	for _, code := range []string{"SignatureDoesNotMatch", "InvalidParameter", "Forbidden.RAM", "InternalError", "Throttling.User", "GroupNotExist", "Odd"} {
		t.Run(code, func(t *testing.T) {
			g := NewWithT(t)
			// A hostile vendor echoes everything it got: the full URL with its
			// query, the Authorization header, and the string it signed.
			echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				msg := fmt.Sprintf("url=http://%s%s auth=%s secret=%s server string to sign is:ACS3-HMAC-SHA256\n%s",
					r.Host, r.URL.RequestURI(), r.Header.Get("Authorization"), testSecret, strings.Repeat("ab", 32))
				w.WriteHeader(400)
				writeJSON(w, map[string]any{"Code": code, "Message": msg})
			})
			var sent string
			capture := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sent = r.Header.Get("Authorization")
				echo(w, r)
			})
			err := newTestClient(t, capture).write(context.Background(), "DeleteChatGroup", map[string]string{"GroupId": "G1"}, nil)
			g.Expect(err).To(HaveOccurred())
			sig := sent[strings.LastIndex(sent, "Signature=")+len("Signature="):]
			g.Expect(sig).To(HaveLen(64))
			text := err.Error()
			g.Expect(text).NotTo(ContainSubstring(testSecret))
			g.Expect(text).NotTo(ContainSubstring(sig))
			g.Expect(text).NotTo(ContainSubstring("CustSpaceId="), "no query string")
			g.Expect(hexRun.FindString(text)).To(BeEmpty(), "nothing signature-like: %s", text)
		})
	}
}

func TestClient_TransportErrorsHaveNoURL(t *testing.T) {
	g := NewWithT(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	go func() { // read the whole request, then hang up: sent, but no answer
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			if req, err := http.ReadRequest(bufio.NewReader(conn)); err == nil {
				_, _ = io.Copy(io.Discard, req.Body)
			}
			_ = conn.Close()
		}
	}()
	defer l.Close()
	c, err := New(testCredentials("http://" + l.Addr().String()))
	g.Expect(err).NotTo(HaveOccurred())

	err = c.read(context.Background(), "ListChatGroup", map[string]string{"Subject": "x"}, nil)
	g.Expect(err).To(MatchError(vendors.ErrUnavailable))
	g.Expect(vendors.Definite(err)).To(BeFalse(), "the call may have been applied")
	g.Expect(err.Error()).NotTo(ContainSubstring("?"))
	g.Expect(err.Error()).NotTo(ContainSubstring("CustSpaceId"))
}

func TestClient_WaitsForTheLimiter(t *testing.T) {
	g := NewWithT(t)
	f := newFakeCAMS(t)
	srv := newTestClient(t, f)
	creds := testCredentials("http://" + srv.endpoint.Host)
	creds.Limiter = vendors.NewLimiter(vendors.Limits{QPS: 0.1, Burst: 1}, nil)
	c, err := New(creds)
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(c.read(context.Background(), "ListChatGroup", nil, nil)).To(Succeed())
	err = c.read(context.Background(), "ListChatGroup", nil, nil)
	g.Expect(err).To(MatchError(vendors.ErrRateLimited))
	g.Expect(f.actions()).To(HaveLen(1), "the throttled call never reached CAMS")
	g.Expect(c.write(context.Background(), "DeleteChatGroup", map[string]string{"GroupId": "G"}, nil)).To(Succeed(), "buckets are per action")
}
