package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Alibaba Cloud's request signature V3 ("ACS3-HMAC-SHA256"), written from
// https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature:
//
//	CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n
//	                   CanonicalHeaders \n SignedHeaders \n HashedPayload
//	StringToSign     = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
//	Signature        = hex(hmac-sha256(AccessKeySecret, StringToSign))
//	Authorization    = ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<a;b>,Signature=<sig>
//
// CanonicalHeaders is one "name:value\n" line per signed header (host,
// content-type and every x-acs-* header, lower-cased, sorted), so a blank line
// separates it from SignedHeaders. auth_test.go reproduces the page's worked
// example step by step.

const (
	signatureAlgorithm = "ACS3-HMAC-SHA256"
	// acsDateFormat is ISO 8601 in UTC, as x-acs-date wants it.
	acsDateFormat = "2006-01-02T15:04:05Z"
)

// signer signs requests for one AccessKey pair. Its secret never leaves sign.
type signer struct {
	accessKeyID     string
	accessKeySecret string
}

// sign sets the x-acs-date, x-acs-signature-nonce and x-acs-content-sha256
// headers and the Authorization header on req, whose URL (with its final query)
// and x-acs-action/x-acs-version headers are already set. It returns the
// signature so that the caller can keep it out of error text.
func (s signer) sign(req *http.Request, payload []byte, at time.Time, nonce string) string {
	hashedPayload := hexSHA256(payload)
	req.Header.Set("x-acs-date", at.UTC().Format(acsDateFormat))
	req.Header.Set("x-acs-signature-nonce", nonce)
	req.Header.Set("x-acs-content-sha256", hashedPayload)

	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	headers, signed := canonicalHeaders(host, req.Header)
	cr := canonicalRequest(req.Method, canonicalURI(req.URL), canonicalQuery(req.URL.Query()), headers, signed, hashedPayload)
	sig := signature(s.accessKeySecret, stringToSign(cr))
	req.Header.Set("Authorization", signatureAlgorithm+" Credential="+s.accessKeyID+",SignedHeaders="+signed+",Signature="+sig)
	return sig
}

// canonicalRequest joins the parts of the canonical request. headers already
// ends with a newline per header.
func canonicalRequest(method, uri, query, headers, signedHeaders, hashedPayload string) string {
	return strings.Join([]string{method, uri, query, headers, signedHeaders, hashedPayload}, "\n")
}

// stringToSign is what the secret signs: the algorithm and the hash of the
// canonical request.
func stringToSign(canonicalRequest string) string {
	return signatureAlgorithm + "\n" + hexSHA256([]byte(canonicalRequest))
}

// signature is the hex HMAC-SHA256 of stringToSign under secret.
func signature(secret, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// canonicalURI is the encoded path; RPC calls go to "/".
func canonicalURI(u *url.URL) string {
	if p := u.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// canonicalQuery encodes every parameter with percentEncode and sorts them by
// encoded name (then value), joined with "&". A parameter without a value is
// "name=".
func canonicalQuery(q url.Values) string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(q))
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, pair{percentEncode(k), percentEncode(v)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// canonicalHeaders returns the signed headers' canonical lines and their names
// joined with ";". It signs host, content-type and every x-acs-* header.
func canonicalHeaders(host string, h http.Header) (lines, signed string) {
	values := map[string]string{"host": host}
	for k, vs := range h {
		name := strings.ToLower(k)
		if name == "content-type" || strings.HasPrefix(name, "x-acs-") {
			values[name] = strings.TrimSpace(strings.Join(vs, ","))
		}
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name + ":" + values[name] + "\n")
	}
	return b.String(), strings.Join(names, ";")
}

// percentEncode is RFC 3986 encoding: unreserved characters stay, every other
// byte of the UTF-8 text becomes %XX (so a space is %20, never "+").
func percentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
