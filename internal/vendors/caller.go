package vendors

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
)

// MaxBody bounds what is read of a vendor's answer; a page of members is well
// below it. A larger answer is ErrUnavailable, never silently cut.
const MaxBody = 16 << 20

// Request is one HTTP call to a vendor API.
type Request struct {
	// API names the vendor API: the rate-limit bucket, the operation in errors
	// and metrics.
	API string
	// Method, URL, Header and Body make the request. The URL may carry
	// credentials in its query string: no error quotes it.
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Write marks a call that changes (or may change) something on the vendor:
	// it ends the pass's reuse of earlier reads, even when it fails.
	Write bool
	// ReadKey, for a read, names what it reads (e.g. the group ID): within one
	// reconcile pass and until a write, a second read of the same API and key is
	// answered from the first.
	ReadKey string
	// Sign, when set, is called just before the request is sent (after the
	// limiter's wait, so dates are fresh) to add authentication; it returns the
	// values it added that must never appear in an error.
	Sign func(*http.Request) (secrets []string)
	// Secrets are further values of this request (a token, a key) that must
	// never appear in an error.
	Secrets []string
}

// Response is a vendor's answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Check is a client's reading of an answer: nil when the call succeeded,
// otherwise a classified *Error from the vendor's code table. An answer it does
// not recognise must be ErrUnavailable, never ErrInvalid.
type Check func(api string, r Response) error

// Caller is the one way a vendor client reaches its vendor: it paces calls
// through the credential's Limiter (and notes the vendor's throttles there),
// reuses a pass's reads, refuses redirects, bounds bodies, classifies answers
// through the client's Check and keeps credentials out of every error. It is
// safe for concurrent use.
type Caller struct {
	http    *http.Client
	limiter *Limiter
	check   Check
}

// NewCaller returns a Caller that paces with limiter (nil: no pacing) and reads
// answers with check, using o's HTTP client.
func NewCaller(limiter *Limiter, check Check, o ClientOptions) *Caller {
	hc := &http.Client{Timeout: DefaultTimeout}
	if o.HTTPClient != nil {
		cp := *o.HTTPClient
		hc = &cp
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Caller{http: hc, limiter: limiter, check: check}
}

// Limiter returns the Caller's rate limiter.
func (c *Caller) Limiter() *Limiter { return c.limiter }

// Do sends req and returns the answer once Check accepted it.
func (c *Caller) Do(ctx context.Context, req Request) (Response, error) {
	if req.Write {
		defer Wrote(ctx) // even a failed write may have changed something
		return c.send(ctx, req)
	}
	if req.ReadKey == "" {
		return c.send(ctx, req)
	}
	return Remember(ctx, req.API+"\x00"+req.ReadKey, func() (Response, error) { return c.send(ctx, req) })
}

// send makes one round trip.
func (c *Caller) send(ctx context.Context, req Request) (Response, error) {
	if err := c.limiter.Wait(ctx, req.API); err != nil {
		return Response{}, err
	}
	// Whether the request was written decides whether a failure is definite:
	// a request that never left cannot have been applied.
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) }}
	hr, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), cmp.Or(req.Method, http.MethodPost), req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return Response{}, Unsent(req.API, err)
	}
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	secrets := req.Secrets
	if req.Sign != nil {
		secrets = append(secrets, req.Sign(hr)...)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		if !wrote.Load() {
			return Response{}, scrub(Unsent(req.API, err), secrets)
		}
		return Response{}, scrub(Transport(req.API, err), secrets)
	}
	c.limiter.Sent(req.API) // answered: the vendor counted it
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return Response{}, scrub(Transport(req.API, err), secrets)
	}
	if len(body) > MaxBody {
		return Response{}, NewError(ErrUnavailable, req.API, "", fmt.Sprintf("the answer is larger than %d bytes", MaxBody))
	}
	r := Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
	if err := c.check(req.API, r); err != nil {
		return Response{}, c.limiter.Note(req.API, scrub(err, secrets))
	}
	return r, nil
}

// scrub replaces secrets in a classified error's text. Vendors are not supposed
// to echo them, but error text reaches conditions and events, so it is not left
// to trust.
func scrub(err error, secrets []string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		e.Message = strings.ReplaceAll(e.Message, s, "[redacted]")
		e.Code = strings.ReplaceAll(e.Code, s, "[redacted]")
	}
	return err
}
