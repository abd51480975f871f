package whatsapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

const (
	// DefaultEndpoint is CAMS's only endpoint (Singapore).
	DefaultEndpoint = "https://cams.ap-southeast-1.aliyuncs.com"
	// apiVersion is the CAMS API version the actions belong to.
	apiVersion = "2020-06-06"
	// channelType is the only channel the chat-group actions support.
	channelType = "WHATSAPP"
	// defaultTimeout bounds one HTTP round trip when no client is injected.
	defaultTimeout = 30 * time.Second
	// maxBody bounds how much of a response is read.
	maxBody = 4 << 20
)

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (nil keeps the default, which has a 30s timeout).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithClock sets the clock used for x-acs-date and for create bookkeeping (nil
// keeps time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// Connector builds CAMS clients. The zero value is ready to use.
type Connector struct {
	// HTTPClient is used for every call; nil means a client with a 30s timeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewConnector returns a Connector whose clients use opts.
func NewConnector(opts ...vendors.Option) Connector {
	o := vendors.BuildOptions(opts...)
	return Connector{HTTPClient: o.HTTPClient, Now: o.Clock.Now}
}

// Connect returns a client for creds. It checks the settings but makes no call.
func (c Connector) Connect(_ context.Context, creds vendors.Credentials) (vendors.GroupClient, error) {
	return New(creds, WithHTTPClient(c.HTTPClient), WithClock(c.Now))
}

// Client talks to CAMS for one AccessKey, customer space and business number. It
// is safe for concurrent use.
type Client struct {
	endpoint       *url.URL
	signer         signer
	custSpaceID    string
	businessNumber string
	limiter        *vendors.Limiter
	http           *http.Client
	now            func() time.Time

	mu sync.Mutex
	// creating remembers subjects this client asked CAMS to create, and when, so
	// Find keeps waiting if CAMS does not list a new group at once.
	creating map[string]time.Time
}

// New returns a Client for creds: Endpoint (default DefaultEndpoint), CustSpaceID,
// BusinessNumber, Secret["accessKeyID"], Secret["accessKeySecret"] and Limiter.
func New(creds vendors.Credentials, opts ...Option) (*Client, error) {
	endpoint := creds.Endpoint
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, vendors.NewError(vendors.ErrInvalid, "connect to CAMS", "", "spec.endpoint must be an http(s) URL such as "+DefaultEndpoint)
	}
	id, secret := string(creds.Secret[SecretAccessKeyID]), string(creds.Secret[SecretAccessKeySecret])
	settings, _ := creds.Settings.(Settings)
	if id == "" || secret == "" {
		return nil, vendors.NewError(vendors.ErrUnauthorized, "connect to CAMS", "", "the credentials Secret needs the keys accessKeyID and accessKeySecret")
	}
	if settings.CustSpaceID == "" || settings.BusinessNumber == "" {
		return nil, vendors.NewError(vendors.ErrInvalid, "connect to CAMS", "", "spec.whatsapp.custSpaceID and spec.whatsapp.businessNumber are required")
	}
	c := &Client{
		endpoint:       u,
		signer:         signer{accessKeyID: id, accessKeySecret: secret},
		custSpaceID:    settings.CustSpaceID,
		businessNumber: settings.BusinessNumber,
		limiter:        creds.Limiter,
		http:           &http.Client{Timeout: defaultTimeout},
		now:            time.Now,
		creating:       map[string]time.Time{},
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// envelope is the part every CAMS response has.
type envelope struct {
	Code               string
	Message            string
	RequestID          string `json:"RequestId"`
	AccessDeniedDetail string
}

// do calls action with params (strings; arrays and structs already JSON) and
// decodes the body into out (nil to ignore it). It waits for the rate limiter
// first, adds the common parameters, signs, and maps failures to vendor error
// classes. No URL, signature or secret reaches the returned error.
func (c *Client) do(ctx context.Context, action string, params map[string]string, out any) error {
	if err := c.limiter.Wait(ctx, action); err != nil {
		return err
	}
	if !strings.HasPrefix(action, "List") {
		defer vendors.Wrote(ctx) // even a failed write may have changed something
	}
	req, sig, err := c.request(ctx, action, params)
	if err != nil {
		return vendors.NewError(vendors.ErrInvalid, action, "", "cannot build the request: "+err.Error())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return vendors.Transport(action, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return vendors.Transport(action, err)
	}
	return c.limiter.Note(action, decode(action, resp, body, out, c.scrubber(sig)))
}

// scrubber returns a function that removes this request's signature, the
// secret and anything signature-like from vendor text before it can reach an
// error, a condition or a log.
func (c *Client) scrubber(sig string) func(string) string {
	r := strings.NewReplacer(sig, "[redacted]", c.signer.accessKeySecret, "[redacted]")
	return func(msg string) string {
		return signatureLike.ReplaceAllString(r.Replace(msg), "[redacted]")
	}
}

// request builds the signed POST for action. Action and Version travel both in
// the signed x-acs-* headers (V3) and in the query, as the RPC style has them.
func (c *Client) request(ctx context.Context, action string, params map[string]string) (*http.Request, string, error) {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	q.Set("Action", action)
	q.Set("Version", apiVersion)
	q.Set("CustSpaceId", c.custSpaceID)
	q.Set("BusinessNumber", c.businessNumber)
	q.Set("ChannelType", channelType)

	u := *c.endpoint
	if u.Path == "" {
		u.Path = "/"
	}
	u.RawQuery = canonicalQuery(q)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("x-acs-action", action)
	req.Header.Set("x-acs-version", apiVersion)
	sig := c.signer.sign(req, nil, c.now(), newNonce())
	return req, sig, nil
}

// decode checks the envelope and fills out. Success is Code "OK" with a 2xx
// status; Success in the body is ignored (the docs show false on success).
func decode(action string, resp *http.Response, body []byte, out any, redact func(string) string) error {
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	if jsonErr != nil || env.Code == "" {
		return unexpectedResponse(action, resp.StatusCode)
	}
	if resp.StatusCode >= 300 || env.Code != "OK" {
		return apiError(action, resp.StatusCode, env.Code, redact(env.Message), retryAfter(resp.Header))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return vendors.NewError(vendors.ErrUnavailable, action, "", "unreadable response: "+err.Error())
	}
	return nil
}

// signatureLike matches SHA-256-sized hex runs: signatures, and the hashed
// canonical request Alibaba Cloud quotes back when a signature does not match.
var signatureLike = regexp.MustCompile(`\b[0-9a-fA-F]{64}\b`)

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
