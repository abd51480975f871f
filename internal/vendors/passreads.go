package vendors

import (
	"context"
	"sync"
)

// passReads memoizes a reconcile pass's vendor reads. A pass reads a group to
// observe it and reads it again to update it or to adopt what a lookup found;
// within one pass, and until the client writes, the second read can only
// repeat the first, so it is answered from here and costs no call against the
// vendor's per-API rate limit.
type passReads struct {
	mu   sync.Mutex
	seen map[string]any
}

type passReadsKey struct{}

// WithPassReads returns a context whose vendor reads are memoized until the
// context ends: the controller gives each reconcile pass its own.
func WithPassReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, passReadsKey{}, &passReads{seen: map[string]any{}})
}

// Remember returns what read returned for key earlier in ctx's pass, or calls
// read and keeps a successful result. Without a pass it always calls read.
// Results are shared: callers must not modify them.
func Remember[T any](ctx context.Context, key string, read func() (T, error)) (T, error) {
	p, _ := ctx.Value(passReadsKey{}).(*passReads)
	if p == nil {
		return read()
	}
	p.mu.Lock()
	v, ok := p.seen[key]
	p.mu.Unlock()
	if ok {
		return v.(T), nil
	}
	got, err := read()
	if err == nil {
		p.mu.Lock()
		p.seen[key] = got
		p.mu.Unlock()
	}
	return got, err
}

// Wrote forgets ctx's pass's reads: the client has changed (or may have
// changed) something on the vendor, so what it read before is out of date.
func Wrote(ctx context.Context) {
	if p, _ := ctx.Value(passReadsKey{}).(*passReads); p != nil {
		p.mu.Lock()
		clear(p.seen)
		p.mu.Unlock()
	}
}
