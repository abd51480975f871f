package controller

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// partialBatch answers a batch with fixed answers and error.
type partialBatch struct {
	answers []bool
	err     error
}

func (p partialBatch) BatchSize() int { return 100 }

func (p partialBatch) ObserveBatch(context.Context, []vendors.BatchItem) ([]bool, error) {
	return p.answers, p.err
}

// TestDriftBatches_Read: the groups a batch vouches for end their check; every
// other group (changed, or not read before the batch failed) is sent to a pass
// of its own and observed on its own there.
func TestDriftBatches_Read(t *testing.T) {
	keys := []types.NamespacedName{{Namespace: "ns", Name: "a"}, {Namespace: "ns", Name: "b"}, {Namespace: "ns", Name: "c"}, {Namespace: "ns", Name: "d"}}
	for _, tc := range []struct {
		name  string
		batch partialBatch
		want  []string // sent to passes of their own
	}{
		{"all unchanged", partialBatch{answers: []bool{true, true, true, true}}, nil},
		{"one changed", partialBatch{answers: []bool{true, false, true, true}}, []string{"b"}},
		{"failed part-way", partialBatch{answers: []bool{true, false, false, false}, err: errors.New("throttled")}, []string{"b", "c", "d"}},
		{"failed with answers for the first groups only", partialBatch{answers: []bool{true, true}, err: errors.New("throttled")}, []string{"c", "d"}},
		{"failed with no answers", partialBatch{err: errors.New("down")}, []string{"a", "b", "c", "d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			b := newDriftBatches(time.Hour, time.Minute, 1)
			cur := &driftBatch{keys: keys, items: make([]vendors.BatchItem, len(keys))}
			b.read(context.Background(), tc.batch, cur)
			var sent []string
			for len(b.events) > 0 {
				sent = append(sent, (<-b.events).Object.GetName())
			}
			g.Expect(sent).To(Equal(tc.want))
			for _, k := range keys {
				g.Expect(b.takeChanged(k)).To(Equal(slices.Contains(tc.want, k.Name)), k.Name)
			}
		})
	}
}
