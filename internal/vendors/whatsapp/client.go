package whatsapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

const (
	// DefaultEndpoint is CAMS's only endpoint (Singapore; vendor-apis.md §3.1).
	DefaultEndpoint = "https://cams.ap-southeast-1.aliyuncs.com"
	// apiVersion is the CAMS API version the actions belong to.
	apiVersion = "2020-06-06"
	// channelType is the only channel the chat-group actions support.
	channelType = "WHATSAPP"
)

// Connector builds CAMS clients. The zero value is ready to use (the real
// clock and an HTTP client with vendors.DefaultTimeout).
type Connector struct {
	opts []vendors.Option
}

// NewConnector returns a Connector whose clients are built with opts.
func NewConnector(opts ...vendors.Option) Connector {
	return Connector{opts: opts}
}

// Connect returns a client for creds. It checks the settings but makes no call.
func (c Connector) Connect(_ context.Context, creds vendors.Credentials) (vendors.GroupClient, error) {
	return New(creds, c.opts...)
}

// Client talks to CAMS for one AccessKey, customer space and business number. It
// is safe for concurrent use.
type Client struct {
	endpoint       *url.URL
	signer         signer
	custSpaceID    string
	businessNumber string
	caller         *vendors.Caller
	clock          clock.PassiveClock
	// permsChecked is set once the RAM actions passed probePermissions.
	permsChecked atomic.Bool

	mu sync.Mutex
	// creating remembers subjects this client asked CAMS to create, and when.
	// CAMS creates asynchronously and answers AddChatGroup with no group ID
	// (vendor-apis.md §3.2, §3.5), and nothing says ListChatGroup shows the new
	// group at once: this is what lets Find keep waiting instead of reporting
	// "no group" and having the controller create a second one.
	creating map[string]time.Time
}

// New returns a Client for creds: Endpoint (default DefaultEndpoint), Settings
// (a Settings: CustSpaceID and BusinessNumber), Secret["accessKeyID"],
// Secret["accessKeySecret"] and Limiter.
func New(creds vendors.Credentials, opts ...vendors.Option) (*Client, error) {
	endpoint := creds.Endpoint
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, vendors.NewError(vendors.ErrInvalid, "connect to CAMS", "", "spec.endpoint must be an http(s) URL such as "+DefaultEndpoint)
	}
	id, secret := string(creds.Secret[SecretAccessKeyID]), string(creds.Secret[SecretAccessKeySecret])
	if id == "" || secret == "" {
		return nil, vendors.NewError(vendors.ErrUnauthorized, "connect to CAMS", "", "the credentials Secret needs the keys accessKeyID and accessKeySecret")
	}
	settings, _ := creds.Settings.(Settings)
	if settings.CustSpaceID == "" || settings.BusinessNumber == "" {
		return nil, vendors.NewError(vendors.ErrInvalid, "connect to CAMS", "", "spec.whatsapp.custSpaceID and spec.whatsapp.businessNumber are required")
	}
	if u.Path == "" {
		u.Path = "/"
	}
	o := vendors.BuildOptions(opts...)
	return &Client{
		endpoint:       u,
		signer:         signer{accessKeyID: id, accessKeySecret: secret},
		custSpaceID:    settings.CustSpaceID,
		businessNumber: settings.BusinessNumber,
		caller:         vendors.NewCaller(creds.Limiter, check, o),
		clock:          o.Clock,
		creating:       map[string]time.Time{},
	}, nil
}

// read calls an action that changes nothing and decodes its answer into out
// (nil to ignore it). Within a reconcile pass, until a write, the same action
// with the same parameters is answered from the pass's first read.
func (c *Client) read(ctx context.Context, action string, params map[string]string, out any) error {
	req := c.request(action, params)
	req.ReadKey = "?" + canonicalQuery(values(params))
	return c.send(ctx, req, out)
}

// write calls an action that changes (or may change) something on CAMS.
func (c *Client) write(ctx context.Context, action string, params map[string]string, out any) error {
	req := c.request(action, params)
	req.Write = true
	return c.send(ctx, req, out)
}

// send makes the call through the Caller and decodes the accepted answer.
func (c *Client) send(ctx context.Context, req vendors.Request, out any) error {
	resp, err := c.caller.Do(ctx, req)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return vendors.NewError(vendors.ErrUnavailable, req.API, "", "unreadable response: "+err.Error())
	}
	return nil
}

// request builds the RPC-style call of action (vendor-apis.md §3.1): POST / with
// the parameters, the common ones included, in the query string, and Action and
// Version also in the signed x-acs-* headers. Sign adds the V3 signature once
// the limiter lets the call go, so its date is fresh; the Caller keeps the
// signature and the secret out of every error.
func (c *Client) request(action string, params map[string]string) vendors.Request {
	q := values(params)
	q.Set("Action", action)
	q.Set("Version", apiVersion)
	q.Set("CustSpaceId", c.custSpaceID)
	q.Set("BusinessNumber", c.businessNumber)
	q.Set("ChannelType", channelType)
	u := *c.endpoint
	u.RawQuery = canonicalQuery(q)
	return vendors.Request{
		API:    action,
		Method: http.MethodPost,
		URL:    u.String(),
		Header: http.Header{
			"Accept":        {"application/json"},
			"X-Acs-Action":  {action},
			"X-Acs-Version": {apiVersion},
		},
		Sign: func(r *http.Request) []string {
			return []string{c.signer.sign(r, nil, c.clock.Now(), newNonce())}
		},
		Secrets: []string{c.signer.accessKeySecret},
	}
}

// values copies params into url.Values.
func values(params map[string]string) url.Values {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	return q
}

// newNonce returns a random x-acs-signature-nonce; CAMS rejects a reused one.
func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// page is ListChatGroup's and ListChatGroupParticipants' Page parameter.
type page struct {
	Index int `json:"Index"`
	Size  int `json:"Size"`
}

// jsonParam serializes an array or struct parameter the way the RPC style
// wants it: as a JSON string. Only plain structs and slices of them are passed,
// which always encode.
func jsonParam(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
