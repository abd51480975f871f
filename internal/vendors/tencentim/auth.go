package tencentim

import (
	"fmt"
	"sync"
	"time"

	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
	"k8s.io/utils/clock"
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

// genUserSig makes a TLSSigAPIv2 UserSig for identifier valid for ttl with the
// vendor's own library (vendor-apis.md §2.2). The library dates the UserSig
// with the wall clock, which is also what the vendor checks it against.
func genUserSig(appID int64, key, identifier string, ttl time.Duration) (string, error) {
	sig, err := tencentyun.GenUserSig(int(appID), key, identifier, int(ttl/time.Second))
	if err != nil {
		return "", fmt.Errorf("generate UserSig: %w", err)
	}
	return sig, nil
}

// signer hands out the admin account's UserSig, generating it only when there is
// none, it is close to expiry, or the vendor called it expired. The UserSig is
// kept because the vendor lets REST callers reuse one within its validity
// (vendor-apis.md §2.2) and generating one per call would cost a signature per
// request. It is safe for concurrent use: one signer serves every group of a
// credential.
type signer struct {
	appID      int64
	identifier string
	key        string
	// clock schedules renewals.
	clock clock.PassiveClock
	// gen makes a UserSig (genUserSig; tests count calls through it).
	gen func(appID int64, key, identifier string, ttl time.Duration) (string, error)

	mu      sync.Mutex
	sig     string
	expires time.Time
}

func newSigner(appID int64, identifier, key string, clk clock.PassiveClock) *signer {
	return &signer{appID: appID, identifier: identifier, key: key, clock: clk, gen: genUserSig}
}

// current returns a UserSig valid for at least userSigRenewBefore.
func (s *signer) current() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sig != "" && s.clock.Now().Before(s.expires.Add(-userSigRenewBefore)) {
		return s.sig, nil
	}
	return s.renewLocked()
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
	return s.renewLocked()
}

func (s *signer) renewLocked() (string, error) {
	now := s.clock.Now()
	sig, err := s.gen(s.appID, s.key, s.identifier, userSigTTL)
	if err != nil {
		return "", err
	}
	s.sig, s.expires = sig, now.Add(userSigTTL)
	return sig, nil
}
