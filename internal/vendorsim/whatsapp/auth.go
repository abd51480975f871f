package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Signature V3 verification, written from Alibaba Cloud's "Request syntax and
// signature method V3" page, independently of the client's signer: the
// canonical form is rebuilt from what arrived on the wire.

const (
	algorithm = "ACS3-HMAC-SHA256"
	// maxSkew is how far x-acs-date may be from the server's clock.
	maxSkew = 15 * time.Minute
)

// authorization is a parsed Authorization header.
type authorization struct {
	credential    string
	signedHeaders []string
	signature     string
}

// parseAuthorization reads "ACS3-HMAC-SHA256 Credential=..,SignedHeaders=a;b,Signature=..".
func parseAuthorization(h string) (authorization, bool) {
	rest, ok := strings.CutPrefix(h, algorithm+" ")
	if !ok {
		return authorization{}, false
	}
	var a authorization
	for _, field := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch k {
		case "Credential":
			a.credential = v
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	return a, a.credential != "" && len(a.signedHeaders) > 0 && a.signature != ""
}

// verify checks r's signature with the accepted key pair and returns the
// vendor's error, or nil. It also returns the signature it saw.
func (s *Sim) verify(r *http.Request) (string, *apiError) {
	a, ok := parseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return "", errIncompleteSignature("the Authorization header is missing or malformed")
	}
	if a.credential != s.cfg.AccessKeyID {
		return a.signature, &apiError{http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.", "", nil}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return a.signature, &apiError{http.StatusBadRequest, "InvalidParameter", "cannot read the body", "", nil}
	}
	if e := s.checkHeaders(r, a, body); e != nil {
		return a.signature, e
	}
	sts := stringToSign(canonicalRequest(r, a.signedHeaders, hashHex(body)))
	want := hmacHex(s.cfg.AccessKeySecret, sts)
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return a.signature, &apiError{http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature does not match our calculation. server string to sign is:" + sts, "", nil}
	}
	if !s.useNonce(r.Header.Get("x-acs-signature-nonce")) { // only a genuine request uses up its nonce
		return a.signature, &apiError{http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.", "", nil}
	}
	return a.signature, nil
}

// checkHeaders enforces what V3 requires besides the signature itself.
func (s *Sim) checkHeaders(r *http.Request, a authorization, body []byte) *apiError {
	signed := map[string]bool{}
	for _, h := range a.signedHeaders {
		signed[h] = true
	}
	for name := range r.Header {
		if n := strings.ToLower(name); strings.HasPrefix(n, "x-acs-") && !signed[n] {
			return errIncompleteSignature("header " + n + " is not signed")
		}
	}
	for _, required := range []string{"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"} {
		if !signed[required] || headerValue(r, required) == "" {
			return errIncompleteSignature("header " + required + " is required and must be signed")
		}
	}
	if r.Header.Get("x-acs-content-sha256") != hashHex(body) {
		return &apiError{http.StatusBadRequest, "SignatureDoesNotMatch", "x-acs-content-sha256 does not match the body", "", nil}
	}
	at, err := time.Parse(time.RFC3339, r.Header.Get("x-acs-date"))
	if err != nil || !strings.HasSuffix(r.Header.Get("x-acs-date"), "Z") {
		return &apiError{http.StatusBadRequest, "InvalidTimeStamp.Format", "x-acs-date must be ISO 8601 UTC, e.g. 2018-01-01T12:00:00Z", "", nil}
	}
	if d := s.now().Sub(at); d > maxSkew || d < -maxSkew {
		return &apiError{http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", "", nil}
	}
	return nil
}

func errIncompleteSignature(why string) *apiError {
	return &apiError{http.StatusBadRequest, "IncompleteSignature", "The request signature does not conform to Aliyun standards: " + why, "", nil}
}

// canonicalRequest rebuilds the canonical request from the wire.
func canonicalRequest(r *http.Request, signedHeaders []string, hashedPayload string) string {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	names := append([]string(nil), signedHeaders...)
	sort.Strings(names)
	var headers strings.Builder
	for _, n := range names {
		headers.WriteString(n + ":" + strings.TrimSpace(headerValue(r, n)) + "\n")
	}
	return r.Method + "\n" + path + "\n" + canonicalQueryString(r.URL.Query()) + "\n" +
		headers.String() + "\n" + strings.Join(names, ";") + "\n" + hashedPayload
}

// headerValue reads a header by its lower-case name; host comes from the request line.
func headerValue(r *http.Request, name string) string {
	if name == "host" {
		return r.Host
	}
	return strings.Join(r.Header.Values(name), ",")
}

// canonicalQueryString sorts by encoded name and encodes names and values.
func canonicalQueryString(q url.Values) string {
	keys := make([]string, 0, len(q))
	enc := map[string]string{}
	for k := range q {
		e := encode(k)
		keys = append(keys, e)
		enc[e] = k
	}
	sort.Strings(keys)
	var parts []string
	for _, e := range keys {
		vs := append([]string(nil), q[enc[e]]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, e+"="+encode(v))
		}
	}
	return strings.Join(parts, "&")
}

// encode is RFC 3986 percent-encoding, derived from form encoding the way
// Alibaba Cloud's documentation describes it: space is %20, "*" is %2A, "~"
// stays.
func encode(s string) string {
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
}

func stringToSign(canonicalRequest string) string {
	return algorithm + "\n" + hashHex([]byte(canonicalRequest))
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// useNonce records nonce and reports whether it was new within maxSkew.
func (s *Sim) useNonce(nonce string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for n, at := range s.nonces { // forget nonces whose dates could no longer pass
		if now.Sub(at) > 2*maxSkew {
			delete(s.nonces, n)
		}
	}
	if _, used := s.nonces[nonce]; used {
		return false
	}
	s.nonces[nonce] = now
	return true
}
