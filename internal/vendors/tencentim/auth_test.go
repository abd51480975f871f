package tencentim

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// The worked example. The key is the placeholder from the vendor's SDK READMEs;
// the expected HMAC was computed outside Go, over the content below:
//
//	printf 'TLS.identifier:administrator\nTLS.sdkappid:1400000000\nTLS.time:1700000000\nTLS.expire:86400\n' |
//	  openssl dgst -sha256 -hmac "$KEY" -binary | base64
//
// (Python's hmac module gives the same value.)
const (
	exampleKey     = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
	exampleAppID   = 1400000000
	exampleAdmin   = "administrator"
	exampleTime    = 1700000000
	exampleExpire  = 86400
	exampleContent = "TLS.identifier:administrator\nTLS.sdkappid:1400000000\nTLS.time:1700000000\nTLS.expire:86400\n"
	exampleHMAC    = "yLAe+w7WUeUuqbV9h/TX78u21oTGi+i9Zp1u3PpnY60="
)

// decodeSig undoes genUserSig by hand: the URL-safe base64 variant, zlib, JSON.
func decodeSig(t testing.TB, sig string) map[string]any {
	t.Helper()
	g := NewWithT(t)
	std := bytes.NewBufferString("")
	for _, r := range sig {
		switch r {
		case '*':
			std.WriteByte('+')
		case '-':
			std.WriteByte('/')
		case '_':
			std.WriteByte('=')
		default:
			std.WriteRune(r)
		}
	}
	raw, err := base64.StdEncoding.DecodeString(std.String())
	g.Expect(err).NotTo(HaveOccurred())
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	g.Expect(err).NotTo(HaveOccurred())
	text, err := io.ReadAll(zr)
	g.Expect(err).NotTo(HaveOccurred())
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	g.Expect(dec.Decode(&doc)).To(Succeed())
	return doc
}

func TestGenUserSig_WorkedExample(t *testing.T) {
	g := NewWithT(t)
	g.Expect(sigContent(exampleAdmin, exampleAppID, exampleTime, exampleExpire)).To(Equal(exampleContent))

	sig, err := genUserSig([]byte(exampleKey), exampleAppID, exampleAdmin, time.Unix(exampleTime, 0), exampleExpire*time.Second)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sig).To(MatchRegexp(`^[A-Za-z0-9*\-_]+$`), "only the URL-safe alphabet: the sig travels in a query string")

	doc := decodeSig(t, sig)
	g.Expect(doc).To(Equal(map[string]any{
		"TLS.ver":        "2.0",
		"TLS.identifier": exampleAdmin,
		"TLS.sdkappid":   json.Number("1400000000"),
		"TLS.expire":     json.Number("86400"),
		"TLS.time":       json.Number("1700000000"),
		"TLS.sig":        exampleHMAC,
	}))

	// The same check a verifier makes, independent of sigContent.
	mac := hmac.New(sha256.New, []byte(exampleKey))
	mac.Write([]byte(exampleContent))
	g.Expect(base64.StdEncoding.EncodeToString(mac.Sum(nil))).To(Equal(exampleHMAC))
}

func TestGenUserSig_KeyAndFieldsChangeTheSignature(t *testing.T) {
	base, _ := genUserSig([]byte(exampleKey), exampleAppID, exampleAdmin, time.Unix(exampleTime, 0), time.Hour)
	for _, tc := range []struct {
		name       string
		key        string
		appID      int64
		identifier string
	}{
		{name: "another key", key: "another", appID: exampleAppID, identifier: exampleAdmin},
		{name: "another app", key: exampleKey, appID: exampleAppID + 1, identifier: exampleAdmin},
		{name: "another identifier", key: exampleKey, appID: exampleAppID, identifier: "ops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			sig, err := genUserSig([]byte(tc.key), tc.appID, tc.identifier, time.Unix(exampleTime, 0), time.Hour)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(decodeSig(t, sig)["TLS.sig"]).NotTo(Equal(decodeSig(t, base)["TLS.sig"]))
		})
	}
}

// clock is a settable clock for tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestSigner_ReusesUntilCloseToExpiry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		elapsed time.Duration
		wantNew bool
	}{
		{name: "right away", elapsed: 0, wantNew: false},
		{name: "an hour later", elapsed: time.Hour, wantNew: false},
		{name: "just outside the renewal margin", elapsed: userSigTTL - userSigRenewBefore - time.Second, wantNew: false},
		{name: "inside the renewal margin", elapsed: userSigTTL - userSigRenewBefore + time.Second, wantNew: true},
		{name: "after expiry", elapsed: userSigTTL + time.Hour, wantNew: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			clk := &clock{now: time.Unix(exampleTime, 0)}
			s := &signer{appID: exampleAppID, identifier: exampleAdmin, key: []byte(exampleKey), now: clk.Now}
			first, err := s.current()
			g.Expect(err).NotTo(HaveOccurred())
			clk.Advance(tc.elapsed)
			second, err := s.current()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(second != first).To(Equal(tc.wantNew))
			if tc.wantNew {
				g.Expect(decodeSig(t, second)["TLS.time"]).To(Equal(json.Number(itoa(clk.Now().Unix()))))
			}
		})
	}
}

func TestSigner_RenewRegeneratesOncePerStaleSig(t *testing.T) {
	g := NewWithT(t)
	clk := &clock{now: time.Unix(exampleTime, 0)}
	s := &signer{appID: exampleAppID, identifier: exampleAdmin, key: []byte(exampleKey), now: clk.Now}
	stale, _ := s.current()

	clk.Advance(time.Minute)
	fresh, err := s.renew(stale)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fresh).NotTo(Equal(stale))
	g.Expect(decodeSig(t, fresh)["TLS.time"]).To(Equal(json.Number(itoa(exampleTime + 60))))

	clk.Advance(time.Minute)
	again, _ := s.renew(stale) // a second caller that also saw the stale sig rejected
	g.Expect(again).To(Equal(fresh), "a concurrent 70001 for the same stale sig does not regenerate again")
	current, _ := s.current()
	g.Expect(current).To(Equal(fresh))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
