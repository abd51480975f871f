package whatsapp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// The worked example published with Alibaba Cloud's "Request syntax and signature
// method V3" page (section "Signature example"): a RunInstances call to ECS with
// fixed inputs.
//
//	AccessKeyId      YourAccessKeyId
//	AccessKeySecret  YourAccessKeySecret
//	POST https://ecs.cn-shanghai.aliyuncs.com/?ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai
//	x-acs-action           RunInstances
//	x-acs-version          2014-05-26
//	x-acs-date             2023-10-26T10:22:32Z
//	x-acs-signature-nonce  3156853299f313e23d1673dc12e1703d
//	body                   empty
//
// Step 1, the canonical request (the empty line ends the header block):
//
//	POST
//	/
//	ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai
//	host:ecs.cn-shanghai.aliyuncs.com
//	x-acs-action:RunInstances
//	x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
//	x-acs-date:2023-10-26T10:22:32Z
//	x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d
//	x-acs-version:2014-05-26
//
//	host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version
//	e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
//
// Step 2, the string to sign: "ACS3-HMAC-SHA256\n" + the canonical request's
// SHA-256, 7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259.
//
// Step 3, the signature: HMAC-SHA256 under the secret,
// 06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0.
const (
	exampleQuery            = "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
	exampleEmptyHash        = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	exampleHashedCanonical  = "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
	exampleSignature        = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
	exampleSignedHeaders    = "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
	exampleCanonicalRequest = "POST\n/\n" + exampleQuery + "\n" +
		"host:ecs.cn-shanghai.aliyuncs.com\n" +
		"x-acs-action:RunInstances\n" +
		"x-acs-content-sha256:" + exampleEmptyHash + "\n" +
		"x-acs-date:2023-10-26T10:22:32Z\n" +
		"x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n" +
		"x-acs-version:2014-05-26\n" +
		"\n" + exampleSignedHeaders + "\n" + exampleEmptyHash
)

func exampleRequest(t *testing.T) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://ecs.cn-shanghai.aliyuncs.com/?"+exampleQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-acs-action", "RunInstances")
	req.Header.Set("x-acs-version", "2014-05-26")
	return req
}

func TestSign_PublishedExample(t *testing.T) {
	g := NewWithT(t)
	req := exampleRequest(t)
	at := time.Date(2023, 10, 26, 10, 22, 32, 0, time.UTC)
	s := signer{accessKeyID: "YourAccessKeyId", accessKeySecret: "YourAccessKeySecret"}

	sig := s.sign(req, nil, at, "3156853299f313e23d1673dc12e1703d")

	g.Expect(sig).To(Equal(exampleSignature))
	g.Expect(req.Header.Get("Authorization")).To(Equal(
		"ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=" + exampleSignedHeaders + ",Signature=" + exampleSignature))
	g.Expect(req.Header.Get("x-acs-date")).To(Equal("2023-10-26T10:22:32Z"))
	g.Expect(req.Header.Get("x-acs-content-sha256")).To(Equal(exampleEmptyHash))
}

func TestSign_PublishedExampleStepByStep(t *testing.T) {
	g := NewWithT(t)
	req := exampleRequest(t)
	req.Header.Set("x-acs-date", "2023-10-26T10:22:32Z")
	req.Header.Set("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d")
	req.Header.Set("x-acs-content-sha256", exampleEmptyHash)

	g.Expect(hexSHA256(nil)).To(Equal(exampleEmptyHash))
	g.Expect(canonicalQuery(req.URL.Query())).To(Equal(exampleQuery))
	headers, signed := canonicalHeaders(req.URL.Host, req.Header)
	g.Expect(signed).To(Equal(exampleSignedHeaders))
	cr := canonicalRequest(http.MethodPost, canonicalURI(req.URL), canonicalQuery(req.URL.Query()), headers, signed, exampleEmptyHash)
	g.Expect(cr).To(Equal(exampleCanonicalRequest))
	g.Expect(stringToSign(cr)).To(Equal("ACS3-HMAC-SHA256\n" + exampleHashedCanonical))
	g.Expect(signature("YourAccessKeySecret", stringToSign(cr))).To(Equal(exampleSignature))
}

func TestPercentEncode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abcXYZ019-_.~", "abcXYZ019-_.~"},
		{"a b", "a%20b"},
		{"a+b", "a%2Bb"},
		{"*", "%2A"},
		{"/:=&?", "%2F%3A%3D%26%3F"},
		{`{"Index":1,"Size":20}`, "%7B%22Index%22%3A1%2C%22Size%22%3A20%7D"},
		{"群", "%E7%BE%A4"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			NewWithT(t).Expect(percentEncode(tc.in)).To(Equal(tc.want))
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   url.Values
		want string
	}{
		{name: "sorted by name", in: url.Values{"b": {"2"}, "a": {"1"}}, want: "a=1&b=2"},
		{name: "a name sorts before names it prefixes", in: url.Values{"a-b": {"2"}, "a": {"1"}}, want: "a=1&a-b=2"},
		{name: "empty value keeps the equals sign", in: url.Values{"Description": {""}}, want: "Description="},
		{name: "values are encoded", in: url.Values{"Subject": {"SRE on-call"}}, want: "Subject=SRE%20on-call"},
		{name: "empty", in: url.Values{}, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(canonicalQuery(tc.in)).To(Equal(tc.want))
		})
	}
}

func TestCanonicalHeaders_SignsHostContentTypeAndACSHeadersOnly(t *testing.T) {
	g := NewWithT(t)
	h := http.Header{}
	h.Set("X-Acs-Version", " 2020-06-06 ")
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "test")
	lines, signed := canonicalHeaders("cams.ap-southeast-1.aliyuncs.com", h)
	g.Expect(signed).To(Equal("content-type;host;x-acs-version"))
	g.Expect(lines).To(Equal("content-type:application/json\nhost:cams.ap-southeast-1.aliyuncs.com\nx-acs-version:2020-06-06\n"))
	g.Expect(strings.Count(lines, "\n")).To(Equal(3))
}

func TestSign_DependsOnEverySignedPart(t *testing.T) {
	at := time.Date(2023, 10, 26, 10, 22, 32, 0, time.UTC)
	base := func(t *testing.T) string {
		return signer{"id", "secret"}.sign(exampleRequest(t), nil, at, "n")
	}
	for _, tc := range []struct {
		name string
		sign func(t *testing.T) string
	}{
		{"secret", func(t *testing.T) string { return signer{"id", "other"}.sign(exampleRequest(t), nil, at, "n") }},
		{"date", func(t *testing.T) string {
			return signer{"id", "secret"}.sign(exampleRequest(t), nil, at.Add(time.Second), "n")
		}},
		{"nonce", func(t *testing.T) string { return signer{"id", "secret"}.sign(exampleRequest(t), nil, at, "m") }},
		{"payload", func(t *testing.T) string { return signer{"id", "secret"}.sign(exampleRequest(t), []byte("x"), at, "n") }},
		{"action", func(t *testing.T) string {
			req := exampleRequest(t)
			req.Header.Set("x-acs-action", "DescribeInstances")
			return signer{"id", "secret"}.sign(req, nil, at, "n")
		}},
		{"query", func(t *testing.T) string {
			req := exampleRequest(t)
			req.URL.RawQuery = "RegionId=cn-beijing"
			return signer{"id", "secret"}.sign(req, nil, at, "n")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(tc.sign(t)).NotTo(Equal(base(t)))
		})
	}
}
