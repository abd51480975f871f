package vendorsim

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestMismatches(t *testing.T) {
	g := NewWithT(t)
	var m Mismatches
	m.Expect("owner", "a", "a")
	g.Expect(m.Err()).NotTo(HaveOccurred())
	m.Expect("owner", "a", "b")
	m.Expect("flag", 0, 1)
	g.Expect(m.Err()).To(MatchError("owner is a, want b; flag is 0, want 1"))
}
