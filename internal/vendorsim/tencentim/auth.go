package tencentim

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// userSigEncoding is the UserSig's base64 variant: the standard alphabet with
// '+' '/' '=' written as '*' '-' '_'.
var userSigEncoding = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-").WithPadding('_')

// userSig is the JSON document inside a TLSSigAPIv2 UserSig.
type userSig struct {
	Ver        string `json:"TLS.ver"`
	Identifier string `json:"TLS.identifier"`
	SDKAppID   int64  `json:"TLS.sdkappid"`
	Expire     int64  `json:"TLS.expire"`
	Time       int64  `json:"TLS.time"`
	Sig        string `json:"TLS.sig"`
	UserBuf    string `json:"TLS.userbuf,omitempty"`
}

// verifyUserSig checks sig the way the vendor does: it must decode, be for appID
// and identifier, carry the HMAC-SHA256 of its fields under key, and not have
// expired at now.
func verifyUserSig(sig string, key []byte, appID int64, identifier string, now time.Time) *vendorError {
	doc, err := parseUserSig(sig)
	if err != nil {
		return fail(codeSigUnparsable, "UserSig could not be parsed: %v", err)
	}
	switch {
	case doc.SDKAppID != appID:
		return fail(codeSigAppID, "UserSig is for SDKAppID %d, not %d", doc.SDKAppID, appID)
	case doc.Identifier != identifier:
		return fail(codeSigIdentifier, "UserSig is for account %s, not %s", doc.Identifier, identifier)
	case !hmac.Equal(signature(key, doc), mustStdBase64(doc.Sig)):
		return fail(codeSigMismatch, "UserSig verification failed; check the secret key")
	case now.Unix() > doc.Time+doc.Expire:
		return fail(codeSigExpired, "UserSig expired at %s", time.Unix(doc.Time+doc.Expire, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// parseUserSig decodes, inflates and unmarshals a UserSig.
func parseUserSig(sig string) (userSig, error) {
	var doc userSig
	raw, err := userSigEncoding.DecodeString(sig)
	if err != nil {
		return doc, fmt.Errorf("base64: %w", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return doc, fmt.Errorf("zlib: %w", err)
	}
	text, err := io.ReadAll(io.LimitReader(zr, 64<<10))
	if err != nil {
		return doc, fmt.Errorf("zlib: %w", err)
	}
	if err := json.Unmarshal(text, &doc); err != nil {
		return doc, fmt.Errorf("json: %w", err)
	}
	if doc.Ver != "2.0" {
		return doc, fmt.Errorf("version %q is not 2.0", doc.Ver)
	}
	return doc, nil
}

// signature is the HMAC-SHA256 the vendor expects: over "TLS.<field>:<value>\n"
// lines for identifier, sdkappid, time and expire (and userbuf when present).
func signature(key []byte, doc userSig) []byte {
	text := fmt.Sprintf("TLS.identifier:%s\nTLS.sdkappid:%d\nTLS.time:%d\nTLS.expire:%d\n",
		doc.Identifier, doc.SDKAppID, doc.Time, doc.Expire)
	if doc.UserBuf != "" {
		text += "TLS.userbuf:" + doc.UserBuf + "\n"
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(text))
	return mac.Sum(nil)
}

// mustStdBase64 decodes s, or returns nil (which never equals a MAC).
func mustStdBase64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

// SignUserSig makes a UserSig for tests of the simulator itself, with the
// algorithm verifyUserSig checks.
func SignUserSig(key string, appID int64, identifier string, issued time.Time, expire time.Duration) string {
	doc := userSig{Ver: "2.0", Identifier: identifier, SDKAppID: appID, Time: issued.Unix(), Expire: int64(expire / time.Second)}
	doc.Sig = base64.StdEncoding.EncodeToString(signature([]byte(key), doc))
	raw, _ := json.Marshal(doc)
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	return userSigEncoding.EncodeToString(buf.Bytes())
}
