package tencentim

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// DefaultEndpoint is the China data centre's REST API domain.
const DefaultEndpoint = "https://console.tim.qq.com"

// service is the REST service that holds the group commands.
const service = "group_open_http_svc"

// Connector builds Clients. The zero value is ready to use.
type Connector struct {
	opts []vendors.Option
}

var _ vendors.Connector = &Connector{}

// NewConnector returns a Connector whose clients use opts.
func NewConnector(opts ...vendors.Option) *Connector {
	return &Connector{opts: opts}
}

// Connect returns a Client for creds. It makes no call.
func (c *Connector) Connect(_ context.Context, creds vendors.Credentials) (vendors.GroupClient, error) {
	return New(creds, c.opts...)
}

// Client manages the groups of one Tencent IM app as its App admin.
type Client struct {
	caller *vendors.Caller
	base   string
	appID  int64
	admin  string
	signer *signer
}

var _ vendors.GroupClient = (*Client)(nil)

// New checks the account settings (creds.Settings is a Settings) and returns a
// Client. It makes no call.
func New(creds vendors.Credentials, opts ...vendors.Option) (*Client, error) {
	base, err := endpoint(creds.Endpoint)
	if err != nil {
		return nil, err
	}
	key := creds.Secret[SecretKey]
	settings, _ := creds.Settings.(Settings)
	switch {
	case settings.SDKAppID <= 0:
		return nil, vendors.NewError(vendors.ErrInvalid, "connect", "", "spec.tencentIM.sdkAppID must be set")
	case settings.AdminIdentifier == "":
		return nil, vendors.NewError(vendors.ErrInvalid, "connect", "", "spec.tencentIM.adminIdentifier must be set")
	case len(key) == 0:
		return nil, vendors.NewError(vendors.ErrUnauthorized, "connect", "", `the credentials Secret has no "`+SecretKey+`"`)
	}
	o := vendors.BuildOptions(opts...)
	return &Client{
		caller: vendors.NewCaller(creds.Limiter, check, o),
		base:   base,
		appID:  settings.SDKAppID,
		admin:  settings.AdminIdentifier,
		signer: newSigner(settings.SDKAppID, settings.AdminIdentifier, string(key), o.Clock),
	}, nil
}

// endpoint validates the provider's endpoint and returns it without a trailing
// slash; empty means DefaultEndpoint.
func endpoint(raw string) (string, error) {
	if raw == "" {
		return DefaultEndpoint, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", vendors.NewError(vendors.ErrInvalid, "connect", "",
			"spec.endpoint must be an http(s) URL without query, such as "+DefaultEndpoint)
	}
	return strings.TrimRight(raw, "/"), nil
}

// envelope is the outcome part of every response.
type envelope struct {
	ActionStatus string `json:"ActionStatus"`
	ErrorCode    int    `json:"ErrorCode"`
	ErrorInfo    string `json:"ErrorInfo"`
}

func (e envelope) failed() bool { return e.ActionStatus != "OK" || e.ErrorCode != 0 }

// write is a request for a command that changes something on the vendor.
func write(command string) vendors.Request {
	return vendors.Request{API: command, Write: true}
}

// read is a request for a command that only reads. A non-empty key names what
// it reads, so that a second identical read in the same reconcile pass (and
// before any write) is answered from the first.
func read(command, key string) vendors.Request {
	return vendors.Request{API: command, ReadKey: key}
}

// jsonHeader is every request's header: the body is JSON.
var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// do sends in as the JSON body of req's command and decodes the response into
// out (when not nil). A vendor error is a classified *vendors.Error; an expired
// UserSig (70001) is regenerated and the call made once more.
func (c *Client) do(ctx context.Context, req vendors.Request, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s request: %w", req.API, err)
	}
	req.Method, req.URL, req.Header, req.Body = http.MethodPost, c.base+"/v4/"+service+"/"+req.API, jsonHeader, body
	sig, err := c.signer.current()
	if err != nil {
		return err
	}
	req.Sign = c.signWith(sig)
	resp, err := c.caller.Do(ctx, req)
	if hasCode(err, codeUserSigExpired) {
		if sig, err = c.signer.renew(sig); err != nil {
			return err
		}
		req.Sign = c.signWith(sig)
		resp, err = c.caller.Do(ctx, req)
	}
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return vendors.NewError(vendors.ErrUnavailable, req.API, "", "malformed response: "+err.Error())
	}
	return nil
}

// signWith returns the Request.Sign that puts the query string on a request:
// the account, the UserSig sig and a fresh random. The UserSig is returned as
// a secret (also URL-escaped, as it appears in the query) so that the Caller
// keeps it out of every error.
func (c *Client) signWith(sig string) func(*http.Request) []string {
	return func(r *http.Request) []string {
		q := url.Values{}
		q.Set("sdkappid", strconv.FormatInt(c.appID, 10))
		q.Set("identifier", c.admin)
		q.Set("usersig", sig)
		q.Set("random", strconv.FormatUint(uint64(rand.Uint32()), 10))
		q.Set("contenttype", "json")
		r.URL.RawQuery = q.Encode()
		return []string{sig, url.QueryEscape(sig)}
	}
}

// check reads an answer (the Caller's Check): the vendor answers every API
// outcome with HTTP 200 and the ActionStatus/ErrorCode envelope
// (vendor-apis.md §2.1), so another status, or a body that is not the envelope,
// is not the vendor speaking: ErrUnavailable, never ErrInvalid.
func check(command string, r vendors.Response) error {
	if r.Status != http.StatusOK {
		return statusError(command, r.Status)
	}
	var env envelope
	if err := json.Unmarshal(r.Body, &env); err != nil || env.ActionStatus == "" {
		return vendors.NewError(vendors.ErrUnavailable, command, "",
			"the answer is not a Tencent IM response; check that spec.endpoint is the app's REST API domain")
	}
	if env.failed() {
		return classify(command, env.ErrorCode, env.ErrorInfo)
	}
	return nil
}
