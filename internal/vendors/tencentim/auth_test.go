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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"
)

// The worked example, which checks the tests' own verifier (content, hmacOf).
// The key is the placeholder from the vendor's SDK READMEs; the expected HMAC
// was computed outside Go, over the content below:
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

// decodeSig undoes a UserSig by hand: the URL-safe base64 variant, zlib, JSON.
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

// content is the text a TLSSigAPIv2 UserSig signs, written here from the
// vendor's description (vendor-apis.md §2.2), independently of the library.
func content(identifier string, appID, issued, expire int64) string {
	return "TLS.identifier:" + identifier + "\n" + "TLS.sdkappid:" + itoa(appID) + "\n" +
		"TLS.time:" + itoa(issued) + "\n" + "TLS.expire:" + itoa(expire) + "\n"
}

// hmacOf is the base64 HMAC-SHA256 of text under key.
func hmacOf(key, text string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(text))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestGenUserSig_WorkedExample(t *testing.T) {
	g := NewWithT(t)
	// The verifier below, checked against the value computed outside Go.
	g.Expect(content(exampleAdmin, exampleAppID, exampleTime, exampleExpire)).To(Equal(exampleContent))
	g.Expect(hmacOf(exampleKey, exampleContent)).To(Equal(exampleHMAC))

	// The vendor's library dates a UserSig with the wall clock.
	before := time.Now().Unix()
	sig, err := genUserSig(exampleAppID, exampleKey, exampleAdmin, exampleExpire*time.Second)
	after := time.Now().Unix()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sig).To(MatchRegexp(`^[A-Za-z0-9*\-_]+$`), "only the URL-safe alphabet: the sig travels in a query string")

	doc := decodeSig(t, sig)
	issued, err := doc["TLS.time"].(json.Number).Int64()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(issued).To(BeNumerically(">=", before))
	g.Expect(issued).To(BeNumerically("<=", after))
	g.Expect(doc).To(Equal(map[string]any{
		"TLS.ver":        "2.0",
		"TLS.identifier": exampleAdmin,
		"TLS.sdkappid":   json.Number("1400000000"),
		"TLS.expire":     json.Number("86400"),
		"TLS.time":       json.Number(itoa(issued)),
		"TLS.sig":        hmacOf(exampleKey, content(exampleAdmin, exampleAppID, issued, exampleExpire)),
	}))
}

func TestGenUserSig_KeyAndFieldsChangeTheSignature(t *testing.T) {
	base, _ := genUserSig(exampleAppID, exampleKey, exampleAdmin, time.Hour)
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
			sig, err := genUserSig(tc.appID, tc.key, tc.identifier, time.Hour)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(decodeSig(t, sig)["TLS.sig"]).NotTo(Equal(decodeSig(t, base)["TLS.sig"]))
		})
	}
}

// numbered replaces s's generator with the library's, made to give the n-th
// UserSig a validity of n seconds more than asked: within one wall-clock second
// the library would make the same UserSig again, and the tests must tell a
// regenerated one apart. It returns the number of UserSigs generated.
func numbered(s *signer) *int {
	n := new(int)
	s.gen = func(appID int64, key, identifier string, ttl time.Duration) (string, error) {
		*n++
		return genUserSig(appID, key, identifier, ttl+time.Duration(*n)*time.Second)
	}
	return n
}

// expireOf returns a UserSig's TLS.expire.
func expireOf(t testing.TB, sig string) int64 {
	t.Helper()
	n, err := decodeSig(t, sig)["TLS.expire"].(json.Number).Int64()
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return n
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
			clk := clocktesting.NewFakeClock(time.Unix(exampleTime, 0))
			s := newSigner(exampleAppID, exampleAdmin, exampleKey, clk)
			generated := numbered(s)
			first, err := s.current()
			g.Expect(err).NotTo(HaveOccurred())
			clk.Step(tc.elapsed)
			second, err := s.current()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(second != first).To(Equal(tc.wantNew))
			if tc.wantNew {
				g.Expect(*generated).To(Equal(2))
				g.Expect(s.expires).To(Equal(clk.Now().Add(userSigTTL)), "the new sig is dated now")
			} else {
				g.Expect(*generated).To(Equal(1))
			}
		})
	}
}

func TestSigner_RenewRegeneratesOncePerStaleSig(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Unix(exampleTime, 0))
	s := newSigner(exampleAppID, exampleAdmin, exampleKey, clk)
	generated := numbered(s)
	stale, _ := s.current()

	clk.Step(time.Minute)
	fresh, err := s.renew(stale)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fresh).NotTo(Equal(stale))
	g.Expect(*generated).To(Equal(2))
	g.Expect(s.expires).To(Equal(time.Unix(exampleTime+60, 0).Add(userSigTTL)), "dated at the renewal")

	clk.Step(time.Minute)
	again, _ := s.renew(stale) // a second caller that also saw the stale sig rejected
	g.Expect(again).To(Equal(fresh), "a concurrent 70001 for the same stale sig does not regenerate again")
	g.Expect(*generated).To(Equal(2))
	current, _ := s.current()
	g.Expect(current).To(Equal(fresh))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
