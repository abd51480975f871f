package dingtalk

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

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

// defaultTimeout bounds one HTTP exchange when no client is injected.
const defaultTimeout = 30 * time.Second

// maxBody bounds what is read of an answer.
const maxBody = 1 << 20

// Connector builds DingTalk clients. It keeps one access token per endpoint and
// credential, shared by every client it builds, so rebuilt clients (a provider's
// settings changed) keep the token and a changed Secret gets a new one.
type Connector struct {
	// HTTPClient sends the requests; nil means a client with a 30s timeout.
	HTTPClient *http.Client
	// Now is the clock for token lifetimes; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	sources map[string]*tokenSource
	known   knownGroups
}

var _ vendors.Connector = &Connector{}

// knownGroups maps the openConversationIds of the groups this process created
// to their chatids: a search reports groups only by openConversationId, and
// DingTalk documents no way back. Safe for concurrent use.
type knownGroups struct {
	mu    sync.Mutex
	byCID map[string]string
}

func (k *knownGroups) add(cid, chatID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byCID == nil {
		k.byCID = map[string]string{}
	}
	k.byCID[cid] = chatID
}

func (k *knownGroups) chatID(cid string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	id, ok := k.byCID[cid]
	return id, ok
}

// NewConnector returns a Connector whose clients use opts.
func NewConnector(opts ...vendors.Option) *Connector {
	o := vendors.BuildOptions(opts...)
	return &Connector{HTTPClient: o.HTTPClient, Now: o.Clock.Now}
}

// Connect implements vendors.Connector. It makes no vendor call.
func (c *Connector) Connect(_ context.Context, creds vendors.Credentials) (vendors.GroupClient, error) {
	return c.NewClient(creds)
}

// NewClient builds a Client for creds: Secret keys appKey and appSecret, the
// v1.0 API at Endpoint and the legacy API at LegacyEndpoint (defaults when empty).
func (c *Connector) NewClient(creds vendors.Credentials) (*Client, error) {
	key, secret := string(creds.Secret[SecretAppKey]), string(creds.Secret[SecretAppSecret])
	if key == "" || secret == "" {
		return nil, vendors.NewError(vendors.ErrUnauthorized, "connect", "", "the credentials Secret needs the keys appKey and appSecret")
	}
	endpoint, err := baseURL(creds.Endpoint, DefaultEndpoint)
	if err != nil {
		return nil, err
	}
	settings, _ := creds.Settings.(Settings)
	legacy, err := baseURL(settings.LegacyEndpoint, DefaultLegacyEndpoint)
	if err != nil {
		return nil, err
	}
	hc := cmp.Or(c.HTTPClient, &http.Client{Timeout: defaultTimeout})
	now := c.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		endpoint: endpoint, legacyEndpoint: legacy, http: hc, limiter: creds.Limiter, now: now,
		tokens: c.source(endpoint, key, secret, hc, now), known: &c.known, seen: map[string]seenChat{},
	}, nil
}

// source returns the token source for one endpoint and credential.
func (c *Connector) source(endpoint, key, secret string, hc *http.Client, now func() time.Time) *tokenSource {
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
	s := &tokenSource{endpoint: endpoint, appKey: key, appSecret: secret, http: hc, now: now}
	c.sources[id] = s
	return s
}

// baseURL checks an endpoint (or def when empty) and drops a trailing slash.
func baseURL(endpoint, def string) (string, error) {
	u, err := url.Parse(cmp.Or(endpoint, def))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", vendors.NewError(vendors.ErrInvalid, "connect", "", "the provider's endpoint must be an http(s) URL without a query")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Client manages DingTalk regular groups for one app. Safe for concurrent use.
type Client struct {
	endpoint       string
	legacyEndpoint string
	http           *http.Client
	limiter        *vendors.Limiter
	tokens         *tokenSource
	known          *knownGroups
	now            func() time.Time

	mu        sync.Mutex
	seen      map[string]seenChat
	lastSweep time.Time
}

var _ vendors.GroupClient = (*Client)(nil)

// seenChat is a group as last read, kept so Update can use what Observe just
// read (management flags, external members, icon) instead of reading it again.
type seenChat struct {
	chat chat
	at   time.Time
}

// seenTTL is how long a read stands in for a fresh one.
const seenTTL = time.Minute

// remember keeps g for seenTTL. Expired reads are swept out once per seenTTL,
// so the map holds the groups read in the last minute or two, not every group
// of the account with its member list.
func (c *Client) remember(g chat) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.seen[g.ID] = seenChat{chat: g, at: now}
	if now.Sub(c.lastSweep) > seenTTL {
		maps.DeleteFunc(c.seen, func(_ string, s seenChat) bool { return now.Sub(s.at) > seenTTL })
		c.lastSweep = now
	}
}

func (c *Client) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.seen, id)
}

func (c *Client) recall(id string) (chat, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.seen[id]
	if !ok || c.now().Sub(s.at) > seenTTL {
		return chat{}, false
	}
	return s.chat, true
}

// post calls a v1.0 API (token in the x-acs-dingtalk-access-token header) and
// decodes the answer into out.
func (c *Client) post(ctx context.Context, api, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.authorized(ctx, func(tok string) error {
		if err := c.limiter.Wait(ctx, api); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+path, bytes.NewReader(body))
		if err != nil {
			return vendors.Transport(api, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-acs-dingtalk-access-token", tok)
		status, raw, err := roundTrip(c.http, api, req)
		if err == nil {
			err = c.limiter.Note(api, v1Error(api, status, raw))
		}
		if err != nil {
			return err
		}
		return decodeBody(api, raw, out)
	})
}

// getLegacy calls a legacy oapi API (token in the access_token query parameter)
// and decodes the answer into out, which must embed legacyBody's fields.
func (c *Client) getLegacy(ctx context.Context, api, path string, query url.Values, out any) error {
	return c.authorized(ctx, func(tok string) error {
		if err := c.limiter.Wait(ctx, api); err != nil {
			return err
		}
		q := url.Values{"access_token": {tok}}
		for k, v := range query {
			q[k] = v
		}
		// The URL carries the token: no error below may quote it (Transport drops it).
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.legacyEndpoint+path+"?"+q.Encode(), nil)
		if err != nil {
			return vendors.Transport(api, err)
		}
		status, raw, err := roundTrip(c.http, api, req)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return c.limiter.Note(api, httpError(api, status))
		}
		var env legacyBody
		if err := decodeBody(api, raw, &env); err != nil {
			return err
		}
		if err := legacyError(api, env); err != nil {
			return c.limiter.Note(api, err)
		}
		return decodeBody(api, raw, out)
	})
}

// authorized runs call with an access token. When the vendor refuses the token
// (HTTP 401, errcode 40014) it is dropped and call runs once more with a fresh
// one; a second refusal means the credentials themselves are rejected. Retrying
// is safe: a refused call had no effect.
func (c *Client) authorized(ctx context.Context, call func(tok string) error) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.get(ctx, c.limiter)
		if err != nil {
			return err
		}
		err = call(tok)
		if errors.Is(err, vendors.ErrUnauthorized) && attempt == 0 {
			c.tokens.invalidate(tok)
			continue
		}
		return scrub(err, tok, c.tokens.appSecret)
	}
}

// roundTrip sends req and reads the answer. Network failures are ErrUnavailable
// without the request URL, which may carry the access token.
func roundTrip(hc *http.Client, api string, req *http.Request) (int, []byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, vendors.Transport(api, err)
	}
	defer resp.Body.Close() //nolint:errcheck // read-only body
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, vendors.Transport(api, err)
	}
	return resp.StatusCode, raw, nil
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
