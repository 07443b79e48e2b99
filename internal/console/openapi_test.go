package console

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi/apitest"
)

func TestOpenAPIVersion(t *testing.T) { apitest.CheckVersion(t, openAPI) }

func TestOpenAPIRoutes(t *testing.T) {
	mux := http.NewServeMux()
	(&API{}).Register(mux)
	var registered []string
	for _, rt := range (&API{}).routes() {
		registered = append(registered, rt.Pattern)
	}
	apitest.CheckRoutes(t, mux, registered, apitest.Documented(t, openAPI), nil)
}

// TestOpenAPISecurity checks that the document says which routes need a
// login: the others answer without one, the secured ones 401 with the code
// "unauthenticated" without credentials or with a wrong token.
func TestOpenAPISecurity(t *testing.T) {
	public := []string{"GET /api/v1/openapi.json", "POST /api/v1/auth/login"}
	for p, op := range apitest.Documented(t, openAPI) {
		if op.Public() {
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
			req := apitest.Request(p, nil)
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
	root := apitest.CheckRefs(t, openAPI)
	codes, _ := apitest.Resolve(root, "#/components/schemas/Error/properties/code/enum")
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

func TestInternalOpenAPI(t *testing.T) {
	apitest.CheckVersion(t, internalOpenAPI)
	apitest.CheckRefs(t, internalOpenAPI)
	mux := http.NewServeMux()
	(&InternalAPI{}).Register(mux)
	registered := svcapi.Patterns((&InternalAPI{}).routes())
	if !slices.Contains(registered, "POST "+auditapi.PathMediaOpens) {
		t.Errorf("routes %v lack the contract's POST %s", registered, auditapi.PathMediaOpens)
	}
	apitest.CheckRoutes(t, mux, registered, apitest.Documented(t, internalOpenAPI), nil)

	// Every documented route but the document needs the service token:
	// 503 while none is configured, 401 without or with a wrong one.
	apitest.CheckTokenRequired(t, internalOpenAPI, func(token string) *http.ServeMux {
		mux := http.NewServeMux()
		(&InternalAPI{Token: token}).Register(mux)
		return mux
	}, nil)
}
