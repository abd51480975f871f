package feishu

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

const (
	// DefaultEndpoint is Feishu (China); LarkEndpoint is Lark, the same API (§1).
	DefaultEndpoint = "https://open.feishu.cn"
	LarkEndpoint    = "https://open.larksuite.com"
	// tokenPath is the internal app's tenant_access_token endpoint (§1), the
	// one the official SDK uses.
	tokenPath = "/open-apis/auth/v3/tenant_access_token/internal"
	chatsPath = "/open-apis/im/v1/chats"
	// refreshBefore: a cached token is replaced when less than this is left
	// (§1 guidance). Asking early is harmless: Feishu returns the same token
	// until its last 30 minutes.
	refreshBefore = 5 * time.Minute
)

// Connector builds Feishu clients.
type Connector struct {
	opts []vendors.Option
}

// NewConnector returns a Connector whose clients are built with opts.
func NewConnector(opts ...vendors.Option) Connector { return Connector{opts: opts} }

// Connect returns a client for creds; it makes no call.
func (c Connector) Connect(_ context.Context, creds vendors.Credentials) (vendors.GroupClient, error) {
	return New(creds, c.opts...)
}

// Client manages one app's chats. It is safe for concurrent use.
type Client struct {
	base    string
	appID   string
	secret  string
	idType  string
	caller  *vendors.Caller
	clock   clock.PassiveClock
	tokenMu sync.Mutex
	token   string
	expiry  time.Time
	// chatLocks serialise member writes per chat: concurrent adds and removes
	// on one chat are refused with 232019 (§4.1).
	chatLocks sync.Map // chat ID -> *sync.Mutex
}

// New returns a client for creds: Endpoint (default DefaultEndpoint),
// Settings (a Settings), Secret["appID"] and Secret["appSecret"].
func New(creds vendors.Credentials, opts ...vendors.Option) (*Client, error) {
	endpoint := strings.TrimRight(creds.Endpoint, "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, vendors.NewError(vendors.ErrInvalid, "connect to Feishu", "", "spec.endpoint must be an http(s) URL such as "+DefaultEndpoint)
	}
	appID, secret := string(creds.Secret[SecretAppID]), string(creds.Secret[SecretAppSecret])
	if appID == "" || secret == "" {
		return nil, vendors.NewError(vendors.ErrUnauthorized, "connect to Feishu", "", "the credentials Secret needs the keys appID and appSecret")
	}
	s, _ := creds.Settings.(Settings)
	o := vendors.BuildOptions(opts...)
	return &Client{base: endpoint, appID: appID, secret: secret, idType: s.idType(),
		caller: vendors.NewCaller(creds.Limiter, check, o), clock: o.Clock}, nil
}

// accessToken returns a cached tenant_access_token, fetching one when none is
// cached or less than refreshBefore is left (§1).
func (c *Client) accessToken(ctx context.Context, force bool) (string, error) {
	c.tokenMu.Lock()
	defer c.tokenMu.Unlock()
	if !force && c.token != "" && c.expiry.Sub(c.clock.Now()) > refreshBefore {
		return c.token, nil
	}
	body, _ := json.Marshal(map[string]string{"app_id": c.appID, "app_secret": c.secret})
	resp, err := c.caller.Do(ctx, vendors.Request{API: "auth/tenant_access_token", Method: http.MethodPost,
		URL: c.base + tokenPath, Header: jsonHeader(), Body: body, Secrets: []string{c.secret}})
	if err != nil {
		return "", err
	}
	var t struct {
		Token  string `json:"tenant_access_token"`
		Expire int    `json:"expire"`
	}
	if err := json.Unmarshal(resp.Body, &t); err != nil || t.Token == "" {
		return "", vendors.NewError(vendors.ErrUnavailable, "auth/tenant_access_token", "", "the answer holds no tenant_access_token")
	}
	c.token, c.expiry = t.Token, c.clock.Now().Add(time.Duration(t.Expire)*time.Second)
	return c.token, nil
}

// dropToken forgets tok, if it is still the cached token.
func (c *Client) dropToken(tok string) {
	c.tokenMu.Lock()
	defer c.tokenMu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}

// call is one API call. query carries user_id_type and the like; body is
// JSON-encoded when not nil; out receives the envelope's data. On a
// token-invalid code the token is fetched again and the call retried once (§1).
type call struct {
	api     string
	method  string
	path    string
	query   url.Values
	body    any
	write   bool
	readKey string
}

func (c *Client) do(ctx context.Context, k call, out any) error {
	var body []byte
	if k.body != nil {
		body, _ = json.Marshal(k.body)
	}
	u := c.base + k.path
	if len(k.query) > 0 {
		u += "?" + k.query.Encode()
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx, false)
		if err != nil {
			return err
		}
		h := jsonHeader()
		h.Set("Authorization", "Bearer "+tok)
		resp, err := c.caller.Do(ctx, vendors.Request{API: k.api, Method: k.method, URL: u, Header: h, Body: body,
			Write: k.write, ReadKey: k.readKey, Secrets: []string{tok, c.secret}})
		if err != nil && tokenInvalid[codeOf(err)] && attempt == 0 {
			c.dropToken(tok)
			continue
		}
		if err != nil || out == nil {
			return err
		}
		var env envelope
		if err := json.Unmarshal(resp.Body, &env); err != nil {
			return vendors.NewError(vendors.ErrUnavailable, k.api, "", "unreadable answer: "+err.Error())
		}
		if len(env.Data) == 0 || bytes.Equal(env.Data, []byte("null")) {
			return nil
		}
		if err := json.Unmarshal(env.Data, out); err != nil {
			return vendors.NewError(vendors.ErrUnavailable, k.api, "", "unreadable answer: "+err.Error())
		}
		return nil
	}
}

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json; charset=utf-8"}}
}

// lockChat serialises member writes on chat id (§4.1, 232019).
func (c *Client) lockChat(id string) (unlock func()) {
	m, _ := c.chatLocks.LoadOrStore(id, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}
