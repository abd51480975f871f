package tencentim

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"
)

const (
	// userSigTTL is how long a generated UserSig is valid. The vendor recommends at
	// least 24 hours (shorter ones cause needless 70001s); longer ones stay usable
	// for longer if one ever leaks.
	userSigTTL = 24 * time.Hour
	// userSigRenewBefore is how long before expiry a cached UserSig is replaced, so
	// a request in flight never carries one that expires on the way.
	userSigRenewBefore = 10 * time.Minute
)

// sigEncoding is TLSSigAPIv2's URL-safe base64: the standard alphabet with '+',
// '/' and '=' replaced by '*', '-' and '_'.
var sigEncoding = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-").WithPadding('_')

// sigDocument is the JSON inside a UserSig.
type sigDocument struct {
	Version    string `json:"TLS.ver"`
	Identifier string `json:"TLS.identifier"`
	SDKAppID   int64  `json:"TLS.sdkappid"`
	Expire     int64  `json:"TLS.expire"`
	Time       int64  `json:"TLS.time"`
	Sig        string `json:"TLS.sig"`
}

// sigContent is the text TLSSigAPIv2 signs: each field on its own line, in this order.
func sigContent(identifier string, appID, issued, expire int64) string {
	return "TLS.identifier:" + identifier + "\n" +
		"TLS.sdkappid:" + strconv.FormatInt(appID, 10) + "\n" +
		"TLS.time:" + strconv.FormatInt(issued, 10) + "\n" +
		"TLS.expire:" + strconv.FormatInt(expire, 10) + "\n"
}

// genUserSig makes a TLSSigAPIv2 UserSig: the HMAC-SHA256 of sigContent under the
// secret key, wrapped with the signed fields in a JSON document that is
// zlib-compressed and encoded with sigEncoding.
func genUserSig(key []byte, appID int64, identifier string, issued time.Time, ttl time.Duration) (string, error) {
	doc := sigDocument{Version: "2.0", Identifier: identifier, SDKAppID: appID,
		Expire: int64(ttl / time.Second), Time: issued.Unix()}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(sigContent(identifier, appID, doc.Time, doc.Expire)))
	doc.Sig = base64.StdEncoding.EncodeToString(mac.Sum(nil))

	raw, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("encode UserSig: %w", err)
	}
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		return "", fmt.Errorf("compress UserSig: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("compress UserSig: %w", err)
	}
	return sigEncoding.EncodeToString(buf.Bytes()), nil
}

// signer hands out the admin account's UserSig, generating it only when there is
// none, it is close to expiry, or the vendor called it expired. It is safe for
// concurrent use: one signer serves every group of a credential.
type signer struct {
	appID      int64
	identifier string
	key        []byte
	now        func() time.Time

	mu      sync.Mutex
	sig     string
	expires time.Time
}

// current returns a UserSig valid for at least userSigRenewBefore.
func (s *signer) current() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.sig != "" && now.Before(s.expires.Add(-userSigRenewBefore)) {
		return s.sig, nil
	}
	return s.renewLocked(now)
}

// renew replaces stale, which the vendor rejected as expired. When another call has
// already replaced it, the newer one is returned as is, so a burst of 70001s
// regenerates once.
func (s *signer) renew(stale string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sig != "" && s.sig != stale {
		return s.sig, nil
	}
	return s.renewLocked(s.now())
}

func (s *signer) renewLocked(now time.Time) (string, error) {
	sig, err := genUserSig(s.key, s.appID, s.identifier, now, userSigTTL)
	if err != nil {
		return "", err
	}
	s.sig, s.expires = sig, now.Add(userSigTTL)
	return sig, nil
}
