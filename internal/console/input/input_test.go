package input_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

type body struct {
	Name  string            `json:"name"`
	Items []string          `json:"items"`
	Attrs map[string]string `json:"attrs"`
	N     int               `json:"n"`
}

func TestDecodeJSON(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		ok        bool
	}{
		{"plain", `{"name":"alice","items":["a"],"attrs":{"k":"v"},"n":1}`, true},
		{"chinese", `{"name":"张三"}`, true},
		{"escaped chinese", `{"name":"\u5f20\u4e09"}`, true},
		{"surrogate pair", `{"name":"\ud83d\ude00"}`, true},
		{"literal replacement character", `{"name":"\ufffd�"}`, true},
		{"escaped backslash before u0000", `{"name":"\\u0000"}`, true},
		{"trailing space", "{\"n\":1} \n", true},
		{"raw NUL", "{\"name\":\"a\x00\"}", false},
		{"escaped NUL", `{"name":"a\u0000"}`, false},
		{"escaped NUL in a key", `{"attrs":{"\u0000":"v"}}`, false},
		{"escaped NUL in a list", `{"items":["x","\u0000"]}`, false},
		{"invalid UTF-8", "{\"name\":\"\xff\"}", false},
		{"overlong UTF-8", "{\"name\":\"\xc0\xaf\"}", false},
		{"lone high surrogate", `{"name":"\ud800"}`, false},
		{"high surrogate then text", `{"name":"\ud800abcdef"}`, false},
		{"lone low surrogate", `{"name":"\udc00"}`, false},
		{"reversed pair", `{"name":"\ude00\ud83d"}`, false},
		{"unknown field", `{"user":"a"}`, false},
		{"two values", `{"n":1}{"n":2}`, false},
		{"trailing garbage", `{"n":1}]`, false},
		{"not JSON", `name=alice`, false},
		{"empty", ``, false},
		{"wrong type", `{"n":"1"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v body
			err := input.DecodeJSON([]byte(tc.raw), &v)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, svcapi.ErrBadRequest) {
				t.Fatalf("err = %v, want svcapi.ErrBadRequest", err)
			}
		})
	}
}

func TestReadJSON(t *testing.T) {
	var v body
	if err := input.ReadJSON(strings.NewReader("  \n"), &v, true); err != nil {
		t.Errorf("blank optional body: %v", err)
	}
	if err := input.ReadJSON(strings.NewReader(""), &v, false); !errors.Is(err, svcapi.ErrBadRequest) {
		t.Errorf("empty required body: %v", err)
	}
	r := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(strings.Repeat("x", 100))), 10)
	var maxErr *http.MaxBytesError
	if err := input.ReadJSON(r, &v, false); !errors.As(err, &maxErr) || errors.Is(err, svcapi.ErrBadRequest) {
		t.Errorf("oversized body: %v, want the MaxBytesError itself", err)
	}
}

func TestRequest(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		header       map[string]string
		ok           bool
	}{
		{"plain", "/api/v1/channels?q=%E9%97%A8&limit=10", nil, true},
		{"plus and spaces", "/api/v1/devices?q=a+b%20c", nil, true},
		{"NUL in path", "/api/v1/channels/a%00b/play", nil, false},
		{"invalid UTF-8 in path", "/api/v1/channels/%ff/play", nil, false},
		{"NUL in query", "/api/v1/devices?q=%00", nil, false},
		{"invalid UTF-8 in query", "/api/v1/devices?q=%C3", nil, false},
		{"invalid UTF-8 in a query key", "/api/v1/devices?%ff=1", nil, false},
		{"bad escape in query", "/api/v1/devices?q=%zz", nil, false},
		{"semicolon in query", "/api/v1/devices?a=1;b=2", nil, false},
		{"bad CSRF header", "/api/v1/me", map[string]string{"X-CSRF-Token": "\xff\xfe"}, false},
		{"bad Authorization", "/api/v1/me", map[string]string{"Authorization": "Bearer \xc3"}, false},
		{"foreign cookie in GBK", "/api/v1/me", map[string]string{"Cookie": "legacy=\xc4\xe3\xba\xc3"}, true},
		{"unread header", "/api/v1/me", map[string]string{"User-Agent": "\xff"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			err := input.Request(r)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, svcapi.ErrBadRequest) {
				t.Fatalf("err = %v, want svcapi.ErrBadRequest", err)
			}
		})
	}
}

// FuzzDecodeJSON checks that DecodeJSON never panics and that whatever it
// accepts decodes to text PostgreSQL can hold, U+FFFD only where the body
// spelled one.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"name":"alice","items":["a","b"],"attrs":{"k":"v"},"n":3}`,
		`{"name":"\ud83d\ude00"}`, `{"name":"\ud800"}`, `{"name":"a\u0000"}`, "{\"name\":\"\xff\"}",
		`{"name":"\\u0000"}`, `{"attrs":{"\udc00":"x"}}`, `{"name":"\ufffd"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var v body
		if err := input.DecodeJSON(raw, &v); err != nil {
			if !errors.Is(err, svcapi.ErrBadRequest) {
				t.Fatalf("error %v does not wrap svcapi.ErrBadRequest", err)
			}
			return
		}
		strs := append([]string{v.Name}, v.Items...)
		for k, x := range v.Attrs {
			strs = append(strs, k, x)
		}
		replacements := 0
		for _, s := range strs {
			if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
				t.Fatalf("accepted %q, decoded to %q", raw, s)
			}
			replacements += strings.Count(s, "\uFFFD")
		}
		if spelled := spelledReplacements(raw); replacements > spelled {
			t.Fatalf("accepted %q: %d U+FFFD decoded, %d spelled", raw, replacements, spelled)
		}
	})
}

// spelledReplacements counts U+FFFD written literally or as \ufffd in raw.
func spelledReplacements(raw []byte) int {
	return strings.Count(string(raw), "\uFFFD") + strings.Count(strings.ToLower(string(raw)), `\ufffd`)
}

// FuzzRequest checks that Request never panics on any path and query and
// that an accepted query decodes to text.
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{"q=%E9%97%A8&limit=10", "q=%00", "a=1;b=2", "%ff=1", "q=%zz", ""} {
		f.Add("/api/v1/devices", seed)
	}
	f.Fuzz(func(t *testing.T, path, query string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path, r.URL.RawQuery = path, query
		if err := input.Request(r); err != nil {
			if !errors.Is(err, svcapi.ErrBadRequest) {
				t.Fatalf("error %v does not wrap svcapi.ErrBadRequest", err)
			}
			return
		}
		if !utf8.ValidString(path) || strings.IndexByte(path, 0) >= 0 {
			t.Fatalf("accepted path %q", path)
		}
		for k, vs := range r.URL.Query() {
			for _, s := range append(vs, k) {
				if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
					t.Fatalf("accepted query %q with %q", query, s)
				}
			}
		}
	})
}
