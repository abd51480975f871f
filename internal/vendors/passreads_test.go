package vendors

import (
	"context"
	"errors"
	"testing"

	. "github.com/onsi/gomega"
)

func TestRemember(t *testing.T) {
	calls := 0
	read := func(v string, err error) func() (string, error) {
		return func() (string, error) { calls++; return v, err }
	}
	tests := []struct {
		name      string
		ctx       func() context.Context
		steps     func(ctx context.Context, g Gomega)
		wantCalls int
	}{
		{
			name: "without a pass every read is made",
			ctx:  context.Background,
			steps: func(ctx context.Context, g Gomega) {
				g.Expect(Remember(ctx, "k", read("a", nil))).To(Equal("a"))
				g.Expect(Remember(ctx, "k", read("b", nil))).To(Equal("b"))
			},
			wantCalls: 2,
		},
		{
			name: "a repeated read in a pass is answered from memory",
			ctx:  func() context.Context { return WithPassReads(context.Background()) },
			steps: func(ctx context.Context, g Gomega) {
				g.Expect(Remember(ctx, "k", read("a", nil))).To(Equal("a"))
				g.Expect(Remember(ctx, "k", read("b", nil))).To(Equal("a"))
				g.Expect(Remember(ctx, "other", read("c", nil))).To(Equal("c"))
			},
			wantCalls: 2,
		},
		{
			name: "a write makes the next read go to the vendor",
			ctx:  func() context.Context { return WithPassReads(context.Background()) },
			steps: func(ctx context.Context, g Gomega) {
				g.Expect(Remember(ctx, "k", read("a", nil))).To(Equal("a"))
				Wrote(ctx)
				g.Expect(Remember(ctx, "k", read("b", nil))).To(Equal("b"))
			},
			wantCalls: 2,
		},
		{
			name: "a failed read is not remembered",
			ctx:  func() context.Context { return WithPassReads(context.Background()) },
			steps: func(ctx context.Context, g Gomega) {
				_, err := Remember(ctx, "k", read("", errors.New("503")))
				g.Expect(err).To(HaveOccurred())
				g.Expect(Remember(ctx, "k", read("b", nil))).To(Equal("b"))
			},
			wantCalls: 2,
		},
		{
			name: "each pass has its own memory",
			ctx:  context.Background,
			steps: func(ctx context.Context, g Gomega) {
				g.Expect(Remember(WithPassReads(ctx), "k", read("a", nil))).To(Equal("a"))
				g.Expect(Remember(WithPassReads(ctx), "k", read("b", nil))).To(Equal("b"))
			},
			wantCalls: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			calls = 0
			tt.steps(tt.ctx(), g)
			g.Expect(calls).To(Equal(tt.wantCalls))
		})
	}
}
