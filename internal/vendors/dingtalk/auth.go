package dingtalk

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// pathToken is the internal-app access token API.
const pathToken = "/v1.0/oauth2/accessToken"

// tokenSource fetches and caches one app's access token. It is shared by every
// client built for the same endpoint and credentials, so concurrent reconciles
// make one token call between them. Safe for concurrent use.
type tokenSource struct {
	endpoint  string
	appKey    string
	appSecret string
	clock     clock.PassiveClock

	mu        sync.Mutex
	token     string
	refreshAt time.Time
	inflight  *fetch // the fetch under way, if any
}

// fetch is one token call that others may wait for.
type fetch struct {
	done chan struct{}
	err  error
}

// get returns a token that is not due for refresh, fetching one if needed. Only
// one fetch runs at a time; callers that arrive meanwhile share its result.
func (s *tokenSource) get(ctx context.Context, caller *vendors.Caller) (string, error) {
	for {
		s.mu.Lock()
		if s.token != "" && s.clock.Now().Before(s.refreshAt) {
			tok := s.token
			s.mu.Unlock()
			return tok, nil
		}
		if f := s.inflight; f != nil {
			s.mu.Unlock()
			select {
			case <-f.done:
				if f.err != nil {
					return "", f.err
				}
				continue
			case <-ctx.Done():
				return "", vendors.Transport(apiToken, ctx.Err())
			}
		}
		f := &fetch{done: make(chan struct{})}
		s.inflight = f
		s.mu.Unlock()

		tok, ttl, err := s.fetch(ctx, caller)
		s.mu.Lock()
		if err == nil {
			// Refresh at 90% of the lifetime, as the vendor advises, so a token never
			// expires between being handed out and being used.
			s.token, s.refreshAt = tok, s.clock.Now().Add(ttl*9/10)
		}
		f.err = err
		s.inflight = nil
		close(f.done)
		s.mu.Unlock()
		return tok, err
	}
}

// invalidate drops tok after the vendor refused it, so the next get fetches a
// new one. A token already replaced by another caller is left alone.
func (s *tokenSource) invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == tok {
		s.token = ""
	}
}

type tokenRequest struct {
	AppKey    string `json:"appKey"`
	AppSecret string `json:"appSecret"`
}

type tokenResponse struct {
	AccessToken string `json:"accessToken"`
	ExpireIn    int64  `json:"expireIn"` // seconds
}

// fetch calls the token API through caller (the asking client's, so the call
// is paced by its credential's limiter). The check reads a refusal as
// ErrUnauthorized (see tokenError).
func (s *tokenSource) fetch(ctx context.Context, caller *vendors.Caller) (string, time.Duration, error) {
	body, err := json.Marshal(tokenRequest{AppKey: s.appKey, AppSecret: s.appSecret})
	if err != nil {
		return "", 0, err
	}
	raw, err := caller.Do(ctx, vendors.Request{
		API: apiToken, Method: http.MethodPost, URL: s.endpoint + pathToken, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}}, Secrets: []string{s.appSecret},
	})
	if err != nil {
		return "", 0, err
	}
	var resp tokenResponse
	if err := decodeBody(apiToken, raw.Body, &resp); err != nil {
		return "", 0, err
	}
	if resp.AccessToken == "" {
		return "", 0, vendors.NewError(vendors.ErrUnavailable, apiToken, "", "the answer holds no access token")
	}
	return resp.AccessToken, time.Duration(resp.ExpireIn) * time.Second, nil
}
