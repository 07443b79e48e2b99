// Package apitest holds what the services' API tests share: the OpenAPI
// checks (the document's version, that every route of the service's route
// table is documented and the other way round, that every $ref resolves
// and every path placeholder is declared, every request and answer against
// the document, each event of an event stream against the schema the
// document maps its name to) and a log sink a test reads while the service writes.
// Each service keeps its own security test, since each secures its routes
// its own way.
package apitest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Operation is the part of an OpenAPI operation the tests read.
type Operation struct {
	// Security is nil when the operation inherits the global requirement.
	Security *[]map[string][]string `json:"security"`
}

// Public reports whether the operation is documented as needing no credentials.
func (o Operation) Public() bool { return o.Security != nil && len(*o.Security) == 0 }

// methods are the keys of a path item that are operations.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

var pathParam = regexp.MustCompile(`\{([^}/]+)\}`)

// CheckVersion fails t unless doc is OpenAPI 3.1.x.
func CheckVersion(t testing.TB, doc []byte) {
	t.Helper()
	var d struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	if !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(d.OpenAPI) {
		t.Errorf("openapi = %q, want 3.1.x", d.OpenAPI)
	}
}

// Documented returns the document's operations as ServeMux patterns
// ("GET /internal/v1/devices/{device}").
func Documented(t testing.TB, doc []byte) map[string]Operation {
	t.Helper()
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	out := map[string]Operation{}
	for path, item := range d.Paths {
		for key, raw := range item {
			if !slices.Contains(methods, key) {
				continue // parameters, summary, …
			}
			var op Operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			out[strings.ToUpper(key)+" "+path] = op
		}
	}
	return out
}

// DocPath is how the document spells a ServeMux pattern: a trailing
// {name...} wildcard is the path parameter {name}, since OpenAPI has none
// that spans segments (NewValidator matches it across them).
func DocPath(pattern string) string { return strings.Replace(pattern, "...}", "}", 1) }

// Request builds a request matching a ServeMux pattern ("METHOD /path/{p}",
// or a path alone for GET): each {p} (or {p...}) becomes params[p], or
// "x" + p.
func Request(pattern string, params map[string]string) *http.Request {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = http.MethodGet, pattern
	}
	path = pathParam.ReplaceAllStringFunc(path, func(p string) string {
		name := strings.TrimSuffix(strings.Trim(p, "{}"), "...")
		if v, ok := params[name]; ok {
			return v
		}
		return "x" + name
	})
	return httptest.NewRequest(method, path, nil)
}

// CheckRoutes checks that mux serves each pattern of the route table
// (registered) under that pattern, that each with a method is documented, and
// that each documented operation is what mux serves. Patterns without a
// method (catch-alls) need no documentation.
func CheckRoutes(t testing.TB, mux *http.ServeMux, registered []string, documented map[string]Operation, params map[string]string) {
	t.Helper()
	for _, p := range registered {
		if _, got := mux.Handler(Request(p, params)); got != p {
			t.Errorf("route %q of the route table: mux matches %q", p, got)
		}
		if !strings.Contains(p, " ") {
			continue
		}
		if _, ok := documented[p]; !ok {
			t.Errorf("route %q is registered but not in openapi.json", p)
		}
	}
	for p := range documented {
		if _, got := mux.Handler(Request(p, params)); got != p {
			t.Errorf("openapi.json documents %q, but the mux matches %q", p, got)
		}
	}
}

// CheckTokenRequired checks that every route doc documents as secured
// needs the service token — 503 while none is configured, 401 without one
// or with a wrong one — and that only the document itself is public. mux
// builds the API's routes with the given configured token.
func CheckTokenRequired(t testing.TB, doc []byte, mux func(token string) *http.ServeMux, params map[string]string) {
	t.Helper()
	for p, op := range Documented(t, doc) {
		if op.Public() {
			if p != "GET /internal/v1/openapi.json" {
				t.Errorf("%s is documented without security", p)
			}
			continue
		}
		for _, tc := range []struct {
			token, header string
			want          int
		}{
			{"", "", http.StatusServiceUnavailable},
			{"right-token-0123456789", "", http.StatusUnauthorized},
			{"right-token-0123456789", "Bearer wrong-token-0123456789", http.StatusUnauthorized},
		} {
			req := Request(p, params)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			rec := httptest.NewRecorder()
			mux(tc.token).ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("%s with token %q and header %q: status %d, want %d", p, tc.token, tc.header, rec.Code, tc.want)
			}
		}
	}
}

// Resolve returns the node of a local $ref ("#/components/schemas/Error")
// in root, the document decoded into an any.
func Resolve(root any, ref string) (any, bool) {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	node := root
	for _, tok := range strings.Split(ptr, "/") {
		m, ok := node.(map[string]any)
		if !ok {
			return nil, false
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if node, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return node, true
}

// CheckRefs checks that every $ref of doc resolves and that every path
// placeholder has a path parameter (and every path parameter a
// placeholder). It returns the decoded document for further checks.
func CheckRefs(t testing.TB, doc []byte) any {
	t.Helper()
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, ok := Resolve(root, ref); !ok {
					t.Errorf("$ref %q does not resolve", ref)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(root)

	paths, _ := root.(map[string]any)["paths"].(map[string]any)
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for key, op := range ops {
			if !slices.Contains(methods, key) {
				continue
			}
			declared := map[string]bool{}
			opm, _ := op.(map[string]any)
			params, _ := opm["parameters"].([]any)
			for _, p := range params {
				pm, _ := p.(map[string]any)
				if ref, ok := pm["$ref"].(string); ok {
					r, _ := Resolve(root, ref)
					pm, _ = r.(map[string]any)
				}
				if name, _ := pm["name"].(string); pm["in"] == "path" {
					declared[name] = true
				}
			}
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s %s: path parameter %q not declared", key, path, m[1])
				}
				delete(declared, m[1])
			}
			for name := range declared {
				t.Errorf("%s %s: path parameter %q not in the path", key, path, name)
			}
		}
	}
	return root
}
