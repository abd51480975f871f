package whatsapp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

const (
	testKeyID    = "LTAI-test-key-id"
	testSecret   = "canary-access-key-secret-value"
	testSpace    = "cams-test"
	testBusiness = "8613800000000"
)

// call is one request the fake CAMS received.
type call struct {
	Action string
	Params url.Values
	Header http.Header
}

// fakeCAMS is an httptest handler that checks every request has the RPC shape
// and a V3 signature, records it, and answers from a table of canned groups or
// from respond. It is deliberately small: the simulator in internal/vendorsim is
// the faithful one.
type fakeCAMS struct {
	t *testing.T

	mu           sync.Mutex
	calls        []call
	groups       []chatGroup
	participants map[string][]string
	// respond, when it returns a status, answers instead of the canned data.
	respond func(action string, q url.Values) (int, string)
	// nextLink is what AddChatGroupInviteLink returns.
	nextLink string
}

func newFakeCAMS(t *testing.T) *fakeCAMS {
	return &fakeCAMS{t: t, participants: map[string][]string{}, nextLink: "https://chat.whatsapp.com/NEWLINK"}
}

func (f *fakeCAMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	action := r.Header.Get("x-acs-action")
	if problem := checkRPCShape(r, q, action); problem != "" {
		f.t.Errorf("%s: %s", action, problem)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"Code":"TestShape","Message":%q}`, problem)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, call{Action: action, Params: q, Header: r.Header.Clone()})
	respond := f.respond
	f.mu.Unlock()
	if respond != nil {
		if status, body := respond(action, q); status != 0 {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
			return
		}
	}
	f.answer(w, action, q)
}

// checkRPCShape returns what is wrong with the request's shape, or "".
func checkRPCShape(r *http.Request, q url.Values, action string) string {
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		return "want POST /, got " + r.Method + " " + r.URL.Path
	case action == "" || q.Get("Action") != action:
		return "Action query parameter and x-acs-action header differ"
	case q.Get("Version") != apiVersion || r.Header.Get("x-acs-version") != apiVersion:
		return "missing Version 2020-06-06"
	case q.Get("CustSpaceId") != testSpace || q.Get("BusinessNumber") != testBusiness:
		return "missing CustSpaceId or BusinessNumber"
	case !strings.HasPrefix(r.Header.Get("Authorization"), "ACS3-HMAC-SHA256 Credential="+testKeyID+",SignedHeaders="):
		return "not signed with ACS3-HMAC-SHA256"
	case r.Header.Get("x-acs-content-sha256") != hexSHA256(nil):
		return "x-acs-content-sha256 is not the empty body's hash"
	}
	return ""
}

// answer serves the canned groups: ListChatGroup filters by substring (the
// vendor's filter semantics are undocumented) and pages.
func (f *fakeCAMS) answer(w http.ResponseWriter, action string, q url.Values) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var pg page
	_ = json.Unmarshal([]byte(q.Get("Page")), &pg)
	switch action {
	case "ListChatGroup":
		var matching []chatGroup
		for _, g := range f.groups {
			if strings.Contains(g.Subject, q.Get("Subject")) {
				matching = append(matching, g)
			}
		}
		writeJSON(w, map[string]any{"Code": "OK", "Data": map[string]any{"Total": len(matching), "List": pageOf(matching, pg)}})
	case "ListChatGroupParticipants":
		var list []participant
		for _, n := range f.participants[q.Get("GroupId")] {
			list = append(list, participant{n})
		}
		writeJSON(w, map[string]any{"Code": "OK", "Data": map[string]any{"Total": len(list), "List": pageOf(list, pg)}})
	case "AddChatGroup":
		writeJSON(w, map[string]any{"Code": "OK", "Success": true, "UniqueCode": "UC-1"})
	case "AddChatGroupInviteLink":
		writeJSON(w, map[string]any{"Code": "OK", "Success": true, "InviteLink": f.nextLink})
	default:
		writeJSON(w, map[string]any{"Code": "OK", "Success": false, "Result": 1}) // Success:false as in the docs' sample
	}
}

func pageOf[T any](items []T, pg page) []T {
	if pg.Size <= 0 || pg.Index <= 0 {
		return nil
	}
	start := min((pg.Index-1)*pg.Size, len(items))
	end := min(start+pg.Size, len(items))
	return items[start:end]
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// actions returns the actions called, in order.
func (f *fakeCAMS) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Action)
	}
	return out
}

// callsOf returns the calls of action.
func (f *fakeCAMS) callsOf(action string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// newTestClient serves h and returns a client for it with the test credentials.
func newTestClient(t *testing.T, h http.Handler, opts ...vendors.Option) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(testCredentials(srv.URL), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testCredentials(endpoint string) vendors.Credentials {
	return vendors.Credentials{
		Endpoint: endpoint,
		Settings: Settings{CustSpaceID: testSpace, BusinessNumber: testBusiness},
		Secret:   map[string][]byte{"accessKeyID": []byte(testKeyID), "accessKeySecret": []byte(testSecret)},
	}
}
