package console

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

// documentedRoutes returns the document's operations as ServeMux patterns.
func documentedRoutes(t *testing.T, doc openAPIDoc) map[string]openAPIOperation {
	t.Helper()
	out := map[string]openAPIOperation{}
	for path, item := range doc.Paths {
		for key, raw := range item {
			if !slices.Contains(openAPIMethods, key) {
				continue
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

// registeredRoutes reads the patterns API.Register in api.go passes to its
// route helpers. Reading the source rather than probing the mux is what
// catches a route nobody documented.
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
	for _, stmt := range register.Body.List {
		es, ok := stmt.(*ast.ExprStmt)
		if !ok {
			continue
		}
		call, ok := es.X.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			continue
		}
		switch fun := call.Fun.(type) {
		case *ast.Ident:
			if fun.Name != "public" && fun.Name != "always" && fun.Name != "route" {
				continue
			}
		case *ast.SelectorExpr:
			if x, ok := fun.X.(*ast.Ident); !ok || x.Name != "mux" {
				continue
			}
		default:
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

var pathParam = regexp.MustCompile(`\{([^}/]+)\}`)

func requestFor(pattern string) *http.Request {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = http.MethodGet, pattern
	}
	path = pathParam.ReplaceAllString(path, "x1")
	return httptest.NewRequest(method, path, nil)
}

func TestOpenAPIVersion(t *testing.T) {
	if doc := loadOpenAPI(t); !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(doc.OpenAPI) {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
}

func TestOpenAPIRoutes(t *testing.T) {
	documented := documentedRoutes(t, loadOpenAPI(t))
	mux := http.NewServeMux()
	(&API{}).Register(mux)
	for _, p := range registeredRoutes(t) {
		if _, got := mux.Handler(requestFor(p)); got != p {
			t.Errorf("route %q read from api.go: mux matches %q", p, got)
		}
		if !strings.Contains(p, " ") {
			continue // the /api/ catch-all
		}
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

// TestOpenAPISecurity checks that the document says which routes need a
// login: the others answer without one, the secured ones 401 with the code
// "unauthenticated" without credentials or with a wrong token.
func TestOpenAPISecurity(t *testing.T) {
	public := []string{"GET /api/v1/openapi.json", "POST /api/v1/auth/login"}
	for p, op := range documentedRoutes(t, loadOpenAPI(t)) {
		if op.Security != nil && len(*op.Security) == 0 {
			if !slices.Contains(public, p) {
				t.Errorf("%s is documented without security", p)
			}
			continue
		}
		if slices.Contains(public, p) {
			t.Errorf("%s needs no login but is documented with security", p)
		}
		for _, header := range []string{"", "Bearer wrong-token", "Basic YTpi"} {
			mux := http.NewServeMux()
			(&API{}).Register(mux)
			req := requestFor(p)
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			var body ErrorBody
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != http.StatusUnauthorized || body.Code != CodeUnauthenticated {
				t.Errorf("%s with Authorization %q: %d %s, want 401 unauthenticated", p, header, rec.Code, rec.Body)
			}
		}
	}
	mux := http.NewServeMux()
	(&API{}).Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != string(openAPI) {
		t.Errorf("GET /api/v1/openapi.json: status %d, %d bytes", rec.Code, rec.Body.Len())
	}
}

// TestOpenAPIRefs checks that every $ref resolves, every path placeholder
// has a path parameter, and every error code the API uses is listed.
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

	codes, _ := resolve("#/components/schemas/Error/properties/code/enum")
	list, _ := codes.([]any)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Code") {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok {
			return true
		}
		code, _ := strconv.Unquote(lit.Value)
		if !slices.Contains(list, any(code)) {
			t.Errorf("error code %q (%s) is not in the Error schema's enum", code, vs.Names[0].Name)
		}
		return true
	})
}
