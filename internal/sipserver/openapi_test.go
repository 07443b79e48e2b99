package sipserver

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// openAPIDoc is the part of openapi.json the tests read.
type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

// openAPIOperation is the part of an operation the tests read.
type openAPIOperation struct {
	// Security is nil when the operation inherits the global requirement.
	Security *[]map[string][]string `json:"security"`
}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	return doc
}

// documentedRoutes returns the document's operations as ServeMux patterns
// ("GET /internal/v1/devices/{device}").
func documentedRoutes(t *testing.T, doc openAPIDoc) map[string]openAPIOperation {
	t.Helper()
	out := map[string]openAPIOperation{}
	for path, item := range doc.Paths {
		for key, raw := range item {
			if !slices.Contains(openAPIMethods, key) {
				continue // parameters, summary, …
			}
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			out[strings.ToUpper(key)+" "+path] = op
		}
	}
	return out
}

// registeredRoutes reads the patterns that API.Register in api.go passes to
// route, mux.Handle and mux.HandleFunc. Reading the source rather than
// probing the mux is what catches a route nobody documented.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "api.go", nil, 0)
	if err != nil {
		t.Fatalf("parse api.go: %v", err)
	}
	var register *ast.FuncDecl
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "Register" && fn.Recv != nil {
			register = fn
		}
	}
	if register == nil {
		t.Fatal("api.go has no Register method")
	}
	var patterns []string
	// Only statements of Register itself: the route helper's own mux.Handle
	// call takes a variable, not a pattern.
	for _, stmt := range register.Body.List {
		es, ok := stmt.(*ast.ExprStmt)
		if !ok {
			continue
		}
		call, ok := es.X.(*ast.CallExpr)
		if !ok || !registersRoute(call.Fun) || len(call.Args) == 0 {
			continue
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			t.Errorf("%s: route pattern is not a string literal", fset.Position(call.Pos()))
			continue
		}
		p, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
		}
		patterns = append(patterns, p)
	}
	if len(patterns) == 0 {
		t.Fatal("found no routes in API.Register")
	}
	return patterns
}

func registersRoute(fun ast.Expr) bool {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name == "route"
	case *ast.SelectorExpr:
		x, ok := f.X.(*ast.Ident)
		return ok && x.Name == "mux" && (f.Sel.Name == "Handle" || f.Sel.Name == "HandleFunc")
	}
	return false
}

var pathParam = regexp.MustCompile(`\{([^}/]+)\}`)

// requestFor builds a request matching a "METHOD /path/{param}" pattern.
func requestFor(pattern string) *http.Request {
	method, path, _ := strings.Cut(pattern, " ")
	path = pathParam.ReplaceAllStringFunc(path, func(p string) string {
		switch p {
		case "{device}":
			return "34020000001320000001"
		case "{channel}":
			return "34020000001310000001"
		}
		return "x" + strings.Trim(p, "{}")
	})
	return httptest.NewRequest(method, path, nil)
}

func TestOpenAPIVersion(t *testing.T) {
	doc := loadOpenAPI(t)
	if !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(doc.OpenAPI) {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
}

func TestOpenAPIRoutes(t *testing.T) {
	documented := documentedRoutes(t, loadOpenAPI(t))
	registered := registeredRoutes(t)

	mux := http.NewServeMux()
	(&API{}).Register(mux)
	// What the parser read is what the mux serves.
	for _, p := range registered {
		if _, got := mux.Handler(requestFor(p)); got != p {
			t.Errorf("route %q read from api.go: mux matches %q", p, got)
		}
	}
	for _, p := range registered {
		if _, ok := documented[p]; !ok {
			t.Errorf("route %q is registered but not in openapi.json", p)
		}
	}
	for p := range documented {
		if _, got := mux.Handler(requestFor(p)); got != p {
			t.Errorf("openapi.json documents %q, but the mux matches %q", p, got)
		}
	}
}

// TestOpenAPISecurity checks that the document says which routes need the
// token: the others answer without one, the secured ones 503 while no token
// is configured and 401 on a wrong one.
func TestOpenAPISecurity(t *testing.T) {
	for p, op := range documentedRoutes(t, loadOpenAPI(t)) {
		if op.Security != nil && len(*op.Security) == 0 {
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
			mux := http.NewServeMux()
			(&API{Token: tc.token}).Register(mux)
			req := requestFor(p)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("%s with token %q and header %q: status %d, want %d", p, tc.token, tc.header, rec.Code, tc.want)
			}
		}
	}

	mux := http.NewServeMux()
	(&API{}).Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/internal/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != string(openAPI) {
		t.Errorf("GET /internal/v1/openapi.json without token: status %d, %d bytes", rec.Code, rec.Body.Len())
	}
}

// TestOpenAPIRefs checks that every $ref resolves and that every path
// placeholder has a path parameter.
func TestOpenAPIRefs(t *testing.T) {
	var root any
	if err := json.Unmarshal(openAPI, &root); err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	resolve := func(ref string) (any, bool) {
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
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, ok := resolve(ref); !ok {
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
		for key, op := range item.(map[string]any) {
			if !slices.Contains(openAPIMethods, key) {
				continue
			}
			declared := map[string]bool{}
			params, _ := op.(map[string]any)["parameters"].([]any)
			for _, p := range params {
				pm, _ := p.(map[string]any)
				if ref, ok := pm["$ref"].(string); ok {
					r, _ := resolve(ref)
					pm, _ = r.(map[string]any)
				}
				if pm["in"] == "path" {
					declared[pm["name"].(string)] = true
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
}
