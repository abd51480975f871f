package vendors

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	. "github.com/onsi/gomega"
)

var allClasses = []error{ErrNotFound, ErrInvalid, ErrUnauthorized, ErrRateLimited, ErrUnavailable, ErrQuotaExceeded}

func TestErrorClasses(t *testing.T) {
	for _, class := range allClasses {
		t.Run(class.Error(), func(t *testing.T) {
			g := NewWithT(t)
			e := NewError(class, "create group", "40001", "name too long")
			wrapped := fmt.Errorf("reconcile default/team: %w", e)

			g.Expect(errors.Is(e, class)).To(BeTrue())
			g.Expect(errors.Is(wrapped, class)).To(BeTrue(), "class must survive %%w wrapping")
			for _, other := range allClasses {
				if other != class {
					g.Expect(errors.Is(wrapped, other)).To(BeFalse(), "must not match %v", other)
				}
			}
			var got *Error
			g.Expect(errors.As(wrapped, &got)).To(BeTrue())
			g.Expect(got).To(BeIdenticalTo(e))

			g.Expect(e.Error()).To(Equal("create group: " + class.Error() + " (40001): name too long"))
			g.Expect(wrapped.Error()).To(ContainSubstring("create group"))
			g.Expect(wrapped.Error()).To(ContainSubstring("40001"))
			g.Expect(wrapped.Error()).To(ContainSubstring("name too long"))
		})
	}

	t.Run("text without op, code or message", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect((&Error{Class: ErrInvalid}).Error()).To(Equal("invalid request"))
		g.Expect((&Error{Class: ErrInvalid, Code: "7"}).Error()).To(Equal("invalid request (7)"))
		g.Expect((&Error{Class: ErrInvalid, Message: "m"}).Error()).To(Equal("invalid request: m"))
		g.Expect((&Error{Class: ErrInvalid, Op: "op"}).Error()).To(Equal("op: invalid request"))
	})

	t.Run("NewError sanitizes the message", func(t *testing.T) {
		g := NewWithT(t)
		e := NewError(ErrUnauthorized, "get token", "", "bad request access_token=SECRET")
		g.Expect(e.Error()).NotTo(ContainSubstring("SECRET"))
		g.Expect(e.Message).To(ContainSubstring("access_token=[redacted]"))
	})
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		absent     []string
		present    []string
		exactly    string // when set, the whole expected output
		maxLen     int    // when set, an upper bound on len(output)
		validUTF8  bool
		wantPrefix string
	}{
		{
			name:    "URL query string removed",
			in:      `Post "https://x.example/v4/group_open_http_svc/create_group?sdkappid=1&usersig=SECRET&random=2": dial tcp: refused`,
			absent:  []string{"SECRET", "sdkappid=1", "random=2"},
			present: []string{`"https://x.example/v4/group_open_http_svc/create_group?[redacted]"`, "dial tcp: refused"},
		},
		{
			name:    "unquoted URL at end of text",
			in:      "GET https://oapi.example/gettoken?appkey=k&appsecret=SECRET",
			absent:  []string{"SECRET", "appkey=k"},
			present: []string{"https://oapi.example/gettoken?[redacted]"},
		},
		{
			name:    "URL without path",
			in:      "http://x.example?access_token=SECRET failed",
			absent:  []string{"SECRET"},
			present: []string{"http://x.example?[redacted] failed"},
		},
		{
			name:    "several URLs",
			in:      "https://a.example/p?t=S1 then https://b.example/q?t=S2",
			absent:  []string{"S1", "S2"},
			present: []string{"https://a.example/p?[redacted]", "https://b.example/q?[redacted]"},
		},
		{
			name:    "upper-case scheme",
			in:      "HTTPS://X.EXAMPLE/P?SIGN=SECRET",
			absent:  []string{"SECRET"},
			present: []string{"HTTPS://X.EXAMPLE/P?[redacted]"},
		},
		{name: "access_token parameter", in: "token access_token=abc123xyz expired", exactly: "token access_token=[redacted] expired"},
		{name: "access_token upper case", in: "ACCESS_TOKEN=abc123xyz", exactly: "ACCESS_TOKEN=[redacted]"},
		{name: "usersig parameter", in: "usersig=SECRET&x=1", exactly: "usersig=[redacted]&x=1"},
		{name: "signature parameter quoted", in: `"signature=SECRET"`, exactly: `"signature=[redacted]"`},
		{name: "several parameters", in: "appsecret=S1 secretkey=S2 accesskeysecret=S3 sign=S4", absent: []string{"S1", "S2", "S3", "S4"}},
		{name: "plain text unchanged", in: "group not found (code 40003)", exactly: "group not found (code 40003)"},
		{name: "empty", in: "", exactly: ""},
		{name: "exactly 512 bytes kept", in: strings.Repeat("a", 512), exactly: strings.Repeat("a", 512)},
		{name: "long text truncated", in: strings.Repeat("a", 5000), maxLen: 515, wantPrefix: strings.Repeat("a", 512)},
		{
			name:   "secret past the cut is still redacted",
			in:     strings.Repeat("a", 600) + " access_token=SECRET",
			absent: []string{"SECRET"},
			maxLen: 515,
		},
		{
			// Vendor messages are often Chinese (3-byte runes); 512 is not a multiple of 3.
			name:      "truncation keeps valid UTF-8",
			in:        strings.Repeat("群", 300),
			maxLen:    515,
			validUTF8: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got := Sanitize(tt.in)
			if tt.exactly != "" || tt.in == "" {
				g.Expect(got).To(Equal(tt.exactly))
			}
			for _, s := range tt.absent {
				g.Expect(got).NotTo(ContainSubstring(s))
			}
			for _, s := range tt.present {
				g.Expect(got).To(ContainSubstring(s))
			}
			if tt.maxLen > 0 {
				g.Expect(len(got)).To(BeNumerically("<=", tt.maxLen))
				g.Expect(len(got)).To(BeNumerically("<", len(tt.in)))
			}
			if tt.wantPrefix != "" {
				g.Expect(got).To(HavePrefix(tt.wantPrefix))
			}
			if tt.validUTF8 {
				g.Expect(utf8.ValidString(got)).To(BeTrue(), "sanitized text must be valid UTF-8, got tail %q", got[max(0, len(got)-8):])
			}
			// Re-sanitizing untruncated text changes nothing: text may pass through it again.
			if len(got) <= 512 {
				g.Expect(Sanitize(got)).To(Equal(got))
			}
		})
	}
}

func TestTransport(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		present string
		dropped string // part of the request URL that must not appear at all
	}{
		{
			name: "url.Error with credentials in URL",
			err: &url.Error{
				Op:  "Post",
				URL: "https://oapi.example/topapi/chat/create?access_token=SECRET",
				Err: errors.New("dial tcp 10.0.0.1:443: connect: connection refused"),
			},
			present: "connection refused",
			dropped: "/topapi/chat/create",
		},
		{
			name: "wrapped url.Error",
			err: fmt.Errorf("call vendor: %w", &url.Error{
				Op:  "Get",
				URL: "https://x.example/v4/a?usersig=SECRET",
				Err: context.DeadlineExceeded,
			}),
			present: "context deadline exceeded",
			dropped: "x.example",
		},
		{
			name: "url.Error whose cause repeats the URL",
			err: &url.Error{
				Op:  "Get",
				URL: "https://x.example/v4/a?usersig=SECRET",
				Err: errors.New(`proxy "https://x.example/v4/a?usersig=SECRET": EOF`),
			},
			present: "EOF",
		},
		{
			name:    "plain error with a secret",
			err:     errors.New("read: access_token=SECRET: connection reset"),
			present: "connection reset",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			// The raw error carries the secret, so the check below is meaningful.
			if !strings.Contains(tt.err.Error(), "SECRET") {
				t.Fatalf("test input should carry the secret: %v", tt.err)
			}
			got := Transport("create group", tt.err)
			g.Expect(got.Error()).NotTo(ContainSubstring("SECRET"))
			g.Expect(errors.Is(got, ErrUnavailable)).To(BeTrue())
			g.Expect(Definite(got)).To(BeFalse(), "a network failure may have applied the change")
			g.Expect(got.Op).To(Equal("create group"))
			g.Expect(got.Error()).To(HavePrefix("create group: unavailable"))
			g.Expect(got.Error()).To(ContainSubstring(tt.present))
			if tt.dropped != "" {
				g.Expect(got.Error()).NotTo(ContainSubstring(tt.dropped))
			}
		})
	}
}

func TestDefinite(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "not found", err: NewError(ErrNotFound, "op", "", ""), want: true},
		{name: "invalid", err: NewError(ErrInvalid, "op", "", ""), want: true},
		{name: "unauthorized", err: NewError(ErrUnauthorized, "op", "", ""), want: true},
		{name: "rate limited", err: NewError(ErrRateLimited, "op", "", ""), want: true},
		{name: "quota exceeded", err: NewError(ErrQuotaExceeded, "op", "", ""), want: true},
		{name: "unavailable", err: NewError(ErrUnavailable, "op", "", ""), want: false},
		{name: "busy", err: NewError(ErrBusy, "op", "", ""), want: true},
		{name: "wrapped busy", err: fmt.Errorf("x: %w", NewError(ErrBusy, "op", "", "")), want: true},
		{name: "never sent", err: Unsent("op", errors.New("dial tcp: connection refused")), want: true},
		{name: "bare sentinel", err: ErrInvalid, want: true},
		{name: "wrapped invalid", err: fmt.Errorf("x: %w", NewError(ErrInvalid, "op", "", "")), want: true},
		{name: "wrapped unavailable", err: fmt.Errorf("x: %w", NewError(ErrUnavailable, "op", "", "")), want: false},
		{name: "unclassified", err: errors.New("boom"), want: false},
		{name: "context deadline", err: context.DeadlineExceeded, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(Definite(tt.err)).To(Equal(tt.want))
		})
	}
}

// TestBusy: ErrBusy is retried as ErrUnavailable (same class for errors.Is,
// same text) but is not confused with it the other way round.
func TestBusy(t *testing.T) {
	g := NewWithT(t)
	e := NewError(ErrBusy, "create group", "503", "Service Unavailable")
	g.Expect(errors.Is(e, ErrUnavailable)).To(BeTrue())
	g.Expect(errors.Is(NewError(ErrUnavailable, "op", "", ""), ErrBusy)).To(BeFalse())
	g.Expect(e.Error()).To(Equal("create group: unavailable (503): Service Unavailable"))
	u := Unsent("create group", &url.Error{Op: "Post", URL: "https://x.example/a?access_token=SECRET", Err: errors.New("dial tcp: lookup x.example: no such host")})
	g.Expect(errors.Is(u, ErrBusy)).To(BeTrue())
	g.Expect(u.Error()).NotTo(ContainSubstring("SECRET"))
	g.Expect(u.Error()).To(ContainSubstring("no such host"))
}

func TestStatusClass(t *testing.T) {
	for status, want := range map[int]error{429: ErrRateLimited, 503: ErrBusy, 500: ErrUnavailable, 502: ErrUnavailable, 504: ErrUnavailable, 404: ErrUnavailable} {
		g := NewWithT(t)
		g.Expect(StatusClass(status)).To(BeIdenticalTo(want), "HTTP %d", status)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{name: "nil", err: nil, want: 0},
		{name: "unclassified", err: errors.New("boom"), want: 0},
		{name: "bare sentinel", err: ErrRateLimited, want: 0},
		{name: "no delay", err: &Error{Class: ErrRateLimited}, want: 0},
		{name: "delay", err: &Error{Class: ErrRateLimited, RetryAfter: 3 * time.Second}, want: 3 * time.Second},
		{name: "wrapped delay", err: fmt.Errorf("a: %w", fmt.Errorf("b: %w", &Error{Class: ErrRateLimited, RetryAfter: time.Minute})), want: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(RetryAfter(tt.err)).To(Equal(tt.want))
		})
	}
}

func TestFieldOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "nil", err: nil, want: ""},
		{name: "unclassified", err: errors.New("members"), want: ""},
		{name: "no field", err: &Error{Class: ErrInvalid}, want: ""},
		{name: "field", err: &Error{Class: ErrInvalid, Field: "members"}, want: "members"},
		{name: "wrapped field", err: fmt.Errorf("update: %w", &Error{Class: ErrInvalid, Field: "name"}), want: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(FieldOf(tt.err)).To(Equal(tt.want))
		})
	}
}
