package tencentim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// DefaultEndpoint is the China data centre's REST API domain.
const DefaultEndpoint = "https://console.tim.qq.com"

// service is the REST service that holds the group commands.
const service = "group_open_http_svc"

// maxResponseBytes bounds a response body: a page of members is well below it.
const maxResponseBytes = 16 << 20

// defaultHTTPTimeout bounds one round trip when the Connector has no HTTP client.
const defaultHTTPTimeout = 30 * time.Second

// Connector builds Clients. The zero value is ready to use.
type Connector struct {
	// HTTPClient makes the requests; nil means a client with a 30s timeout. Its
	// redirect policy is replaced: the vendor never redirects, and following one
	// would resend the UserSig to another host.
	HTTPClient *http.Client
	// Now is the clock UserSigs are dated with; nil means time.Now.
	Now func() time.Time
}

var _ vendors.Connector = &Connector{}

// NewConnector returns a Connector whose clients use opts.
func NewConnector(opts ...vendors.Option) *Connector {
	o := vendors.BuildOptions(opts...)
	return &Connector{HTTPClient: o.HTTPClient, Now: o.Clock.Now}
}

// Connect checks the account settings and returns a Client. It makes no call.
func (c *Connector) Connect(_ context.Context, creds vendors.Credentials) (vendors.GroupClient, error) {
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
		return nil, vendors.NewError(vendors.ErrUnauthorized, "connect", "", `the credentials Secret has no "secretKey"`)
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		http:    noRedirects(c.HTTPClient),
		base:    base,
		appID:   settings.SDKAppID,
		admin:   settings.AdminIdentifier,
		limiter: creds.Limiter,
		signer:  &signer{appID: settings.SDKAppID, identifier: settings.AdminIdentifier, key: key, now: now},
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

// noRedirects returns a copy of hc (or a default client) that does not follow
// redirects.
func noRedirects(hc *http.Client) *http.Client {
	out := &http.Client{Timeout: defaultHTTPTimeout}
	if hc != nil {
		cp := *hc
		out = &cp
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return out
}

// Client manages the groups of one Tencent IM app as its App admin.
type Client struct {
	http    *http.Client
	base    string
	appID   int64
	admin   string
	limiter *vendors.Limiter
	signer  *signer
}

var _ vendors.GroupClient = (*Client)(nil)

// envelope is the outcome part of every response.
type envelope struct {
	ActionStatus string `json:"ActionStatus"`
	ErrorCode    int    `json:"ErrorCode"`
	ErrorInfo    string `json:"ErrorInfo"`
}

func (e envelope) failed() bool { return e.ActionStatus != "OK" || e.ErrorCode != 0 }

// do calls command with in as the JSON body and decodes the response into out
// (when not nil). A vendor error becomes a classified *vendors.Error; an expired
// UserSig (70001) is regenerated and the call made once more.
func (c *Client) do(ctx context.Context, command string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s request: %w", command, err)
	}
	sig, err := c.signer.current()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(command, "get_") {
		defer vendors.Wrote(ctx) // even a failed write may have changed something
	}
	env, raw, err := c.post(ctx, command, sig, body)
	if err == nil && env.ErrorCode == codeUserSigExpired {
		if sig, err = c.signer.renew(sig); err == nil {
			env, raw, err = c.post(ctx, command, sig, body)
		}
	}
	if err != nil {
		return err
	}
	if env.failed() {
		return c.limiter.Note(command, classify(command, env.ErrorCode, env.ErrorInfo))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return vendors.NewError(vendors.ErrUnavailable, command, "", "malformed response: "+err.Error())
	}
	return nil
}

// post makes one round trip, paced by the limiter. Errors never quote the request
// URL: it carries the UserSig.
func (c *Client) post(ctx context.Context, command, sig string, body []byte) (envelope, []byte, error) {
	if err := c.limiter.Wait(ctx, command); err != nil {
		return envelope{}, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(command, sig), bytes.NewReader(body))
	if err != nil {
		return envelope{}, nil, vendors.Transport(command, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return envelope{}, nil, vendors.Transport(command, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return envelope{}, nil, vendors.Transport(command, err)
	}
	if resp.StatusCode != http.StatusOK {
		return envelope{}, nil, c.limiter.Note(command, statusError(command, resp.StatusCode))
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.ActionStatus == "" {
		return envelope{}, nil, vendors.NewError(vendors.ErrUnavailable, command, "",
			"the answer is not a Tencent IM response; check that spec.endpoint is the app's REST API domain")
	}
	return env, raw, nil
}

// url builds the request URL for command.
func (c *Client) url(command, sig string) string {
	q := url.Values{}
	q.Set("sdkappid", strconv.FormatInt(c.appID, 10))
	q.Set("identifier", c.admin)
	q.Set("usersig", sig)
	q.Set("random", strconv.FormatUint(uint64(rand.Uint32()), 10))
	q.Set("contenttype", "json")
	return c.base + "/v4/" + service + "/" + command + "?" + q.Encode()
}
