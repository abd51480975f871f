package dingtalk

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// Default endpoints (China site); providers set others for the international
// site (api.dingtalk.io, oapi.dingtalk.io) or a simulator.
const (
	DefaultEndpoint       = "https://api.dingtalk.com"
	DefaultLegacyEndpoint = "https://oapi.dingtalk.com"
)

// Secret keys of a DingTalk provider's credentials Secret.
const (
	SecretAppKey    = "appKey"
	SecretAppSecret = "appSecret"
)

// API names: the operation in error messages and the rate-limit bucket (the
// vendor limits each API separately).
const (
	apiToken  = "oauth2/accessToken"
	apiCreate = "group/create"
	apiUpdate = "group/update"
	apiGet    = "chat/get"
	apiSearch = "innerGroups/search"
)

// Connector builds DingTalk clients. It keeps one access token per endpoint and
// credential, shared by every client it builds, so rebuilt clients (a provider's
// settings changed) keep the token and a changed Secret gets a new one. The zero
// value is ready to use with the default options.
type Connector struct {
	opts vendors.ClientOptions

	mu      sync.Mutex
	sources map[string]*tokenSource
	known   knownGroups
}

var _ vendors.Connector = &Connector{}

// NewConnector returns a Connector whose clients use opts.
func NewConnector(opts ...vendors.Option) *Connector {
	return &Connector{opts: vendors.BuildOptions(opts...)}
}

// New returns a Client for creds with a token cache of its own; clients that
// should share tokens come from one Connector.
func New(creds vendors.Credentials, opts ...vendors.Option) (*Client, error) {
	return NewConnector(opts...).client(creds)
}

// Connect implements vendors.Connector. It makes no vendor call.
func (c *Connector) Connect(_ context.Context, creds vendors.Credentials) (vendors.GroupClient, error) {
	return c.client(creds)
}

// client builds a Client for creds: Secret keys appKey and appSecret, the v1.0
// API at Endpoint and the legacy API at Settings.LegacyEndpoint (defaults when
// empty).
func (c *Connector) client(creds vendors.Credentials) (*Client, error) {
	key, secret := string(creds.Secret[SecretAppKey]), string(creds.Secret[SecretAppSecret])
	if key == "" || secret == "" {
		return nil, vendors.NewError(vendors.ErrUnauthorized, "connect", "", "the credentials Secret needs the keys appKey and appSecret")
	}
	endpoint, err := baseURL(creds.Endpoint, DefaultEndpoint)
	if err != nil {
		return nil, err
	}
	settings, _ := creds.Settings.(Settings)
	legacy, err := baseURL(settings.LegacyEndpoint, legacyOf(endpoint))
	if err != nil {
		return nil, err
	}
	o := c.opts
	if o.Clock == nil { // the zero Connector
		o = vendors.BuildOptions()
	}
	return &Client{
		endpoint: endpoint, legacyEndpoint: legacy,
		caller: vendors.NewCaller(creds.Limiter, check, o),
		tokens: c.source(endpoint, key, secret, o), known: &c.known, template: settings.SceneGroupTemplateID,
	}, nil
}

// source returns the token source for one endpoint and credential.
func (c *Connector) source(endpoint, key, secret string, o vendors.ClientOptions) *tokenSource {
	sum := sha256.Sum256([]byte(endpoint + "\x00" + key + "\x00" + secret))
	id := hex.EncodeToString(sum[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.sources[id]; ok {
		return s
	}
	if c.sources == nil {
		c.sources = map[string]*tokenSource{}
	}
	s := &tokenSource{endpoint: endpoint, appKey: key, appSecret: secret, clock: o.Clock}
	c.sources[id] = s
	return s
}

// legacyOf is the legacy (oapi) base URL of the site endpoint belongs to: each
// site serves both APIs under its own domain (vendor-apis.md §1.1; the seed
// pages and help.dingtalk.io use api.dingtalk.io with oapi.dingtalk.io), and a
// token one site issued is not valid on the other. An endpoint on neither site
// (a proxy, a simulator) keeps the China site's legacy host, as before.
func legacyOf(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return DefaultLegacyEndpoint
	}
	if rest, ok := strings.CutPrefix(u.Hostname(), "api."); ok && (rest == "dingtalk.io" || rest == "dingtalk.com") {
		port := u.Port()
		u.Host = "oapi." + rest
		if port != "" {
			u.Host += ":" + port
		}
		u.Path, u.RawPath = "", ""
		return u.String()
	}
	return DefaultLegacyEndpoint
}

// baseURL checks an endpoint (or def when empty) and drops a trailing slash.
func baseURL(endpoint, def string) (string, error) {
	u, err := url.Parse(cmp.Or(endpoint, def))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", vendors.NewError(vendors.ErrInvalid, "connect", "", "the provider's endpoint must be an http(s) URL without a query")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// knownGroups pairs the openConversationIds of the groups this process created
// with their chatids. DingTalk makes the state necessary: a search reports
// groups only by openConversationId, chat/get does not report it, and no
// documented API turns one into the other in that direction. It grows with the
// groups created, not with the groups read. Safe for concurrent use.
type knownGroups struct {
	mu       sync.Mutex
	byCID    map[string]string
	byChatID map[string]string
}

func (k *knownGroups) add(cid, chatID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byCID == nil {
		k.byCID, k.byChatID = map[string]string{}, map[string]string{}
	}
	k.byCID[cid], k.byChatID[chatID] = chatID, cid
}

func (k *knownGroups) chatID(cid string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	id, ok := k.byCID[cid]
	return id, ok
}

func (k *knownGroups) cid(chatID string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.byChatID[chatID]
}

// Client manages DingTalk regular and scene groups for one app. Safe for
// concurrent use.
type Client struct {
	endpoint       string
	legacyEndpoint string
	caller         *vendors.Caller
	tokens         *tokenSource
	known          *knownGroups
	// permsChecked is set once the app's permissions passed probePermissions.
	permsChecked atomic.Bool
	// template is the provider's scene-group template ("" when none).
	template string
}

var _ vendors.GroupClient = (*Client)(nil)

// v1Call is a v1.0 API: its name, path, and whether it changes something.
type v1Call struct {
	api   string
	path  string
	write bool
}

var (
	callCreate = v1Call{api: apiCreate, path: pathCreate, write: true}
	callUpdate = v1Call{api: apiUpdate, path: pathUpdate, write: true}
	callSearch = v1Call{api: apiSearch, path: pathSearch}
)

// post calls a v1.0 API (token in the x-acs-dingtalk-access-token header) and
// decodes the answer into out.
func (c *Client) post(ctx context.Context, call v1Call, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.authorized(ctx, func(tok string) error {
		resp, err := c.caller.Do(ctx, vendors.Request{
			API: call.api, Method: http.MethodPost, URL: c.endpoint + call.path, Body: body, Write: call.write,
			Header:  http.Header{"Content-Type": {"application/json"}, "X-Acs-Dingtalk-Access-Token": {tok}},
			Secrets: []string{tok, c.tokens.appSecret},
		})
		if err != nil {
			return err
		}
		return decodeBody(call.api, resp.Body, out)
	})
}

// getLegacy calls a legacy oapi API and decodes the answer into out. The token
// goes in the access_token query parameter, so the URL is a secret: the Caller
// refuses redirects (which would resend it elsewhere) and keeps it out of
// errors. readKey, when set, lets the pass read cache answer a repeat.
func (c *Client) getLegacy(ctx context.Context, api, path string, query url.Values, readKey string, out any) error {
	return c.authorized(ctx, func(tok string) error {
		q := url.Values{"access_token": {tok}}
		maps.Copy(q, query)
		resp, err := c.caller.Do(ctx, vendors.Request{
			API: api, Method: http.MethodGet, URL: c.legacyEndpoint + path + "?" + q.Encode(), ReadKey: readKey,
			Secrets: []string{tok, c.tokens.appSecret},
		})
		if err != nil {
			return err
		}
		return decodeBody(api, resp.Body, out)
	})
}

// authorized runs call with an access token. When the vendor refuses the token
// (HTTP 401, errcode 40014) it is dropped and call runs once more with a fresh
// one; a second refusal means the credentials themselves are rejected. Retrying
// is safe: a refused call had no effect.
func (c *Client) authorized(ctx context.Context, call func(tok string) error) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.get(ctx, c.caller)
		if err != nil {
			return err
		}
		err = call(tok)
		if errors.Is(err, vendors.ErrUnauthorized) && attempt == 0 {
			c.tokens.invalidate(tok)
			continue
		}
		return err
	}
}

// decodeBody decodes a successful answer; one that is not the expected JSON is
// treated as transient, like a gateway page.
func decodeBody(api string, raw []byte, out any) error {
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return vendors.NewError(vendors.ErrUnavailable, api, "", "unreadable answer: "+err.Error())
	}
	return nil
}
