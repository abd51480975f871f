package plugin

import (
	"bytes"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestMain_UsageErrors checks that wrong arguments and flags exit 2 with an
// error that says what to do, before any request.
func TestMain_UsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export"}, "--provider is required"},
		{[]string{"export", "--provider", "p", "-o", "xml"}, "--output must be yaml or json"},
		{[]string{"export", "extra"}, "expected no arguments"},
		{[]string{"reconcile"}, "expected the ChatGroup's name"},
		{[]string{"reconcile", "x", "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"plan", "x", "-o", "wide"}, "--output must be yaml or json"},
		{[]string{"approve", "a", "b"}, "expected the ChatGroup's name, got 2 arguments"},
		{[]string{"export", "--no-such-flag"}, "unknown flag: --no-such-flag"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			g := NewWithT(t)
			var out, errOut bytes.Buffer
			code := Main(tc.args, genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
			g.Expect(code).To(Equal(ExitUsage))
			g.Expect(errOut.String()).To(HavePrefix("error: "))
			g.Expect(errOut.String()).To(ContainSubstring(tc.want))
			g.Expect(out.String()).To(BeEmpty())
		})
	}
}
