package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

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
	http      *http.Client
	now       func() time.Time

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
func (s *tokenSource) get(ctx context.Context, lim *vendors.Limiter) (string, error) {
	for {
		s.mu.Lock()
		if s.token != "" && s.now().Before(s.refreshAt) {
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

		tok, ttl, err := s.fetch(ctx, lim)
		s.mu.Lock()
		if err == nil {
			// Refresh at 90% of the lifetime, as the vendor advises, so a token never
			// expires between being handed out and being used.
			s.token, s.refreshAt = tok, s.now().Add(ttl*9/10)
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

// fetch calls the token API. A rejection of the request (any 4xx that is not a
// throttle) means the credentials are wrong: ErrUnauthorized.
func (s *tokenSource) fetch(ctx context.Context, lim *vendors.Limiter) (string, time.Duration, error) {
	if err := lim.Wait(ctx, apiToken); err != nil {
		return "", 0, err
	}
	body, err := json.Marshal(tokenRequest{AppKey: s.appKey, AppSecret: s.appSecret})
	if err != nil {
		return "", 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint+pathToken, bytes.NewReader(body))
	if err != nil {
		return "", 0, vendors.Transport(apiToken, err)
	}
	req.Header.Set("Content-Type", "application/json")
	status, raw, err := roundTrip(s.http, apiToken, req)
	if err == nil {
		err = lim.Note(apiToken, v1Error(apiToken, status, raw))
	}
	var e *vendors.Error
	if errors.As(err, &e) && e.Class == vendors.ErrInvalid {
		e.Class = vendors.ErrUnauthorized
	}
	var resp tokenResponse
	if err == nil {
		err = decodeBody(apiToken, raw, &resp)
	}
	if err == nil && resp.AccessToken == "" {
		err = vendors.NewError(vendors.ErrUnavailable, apiToken, "", "the answer holds no access token")
	}
	if err != nil {
		return "", 0, scrub(err, s.appSecret)
	}
	return resp.AccessToken, time.Duration(resp.ExpireIn) * time.Second, nil
}
