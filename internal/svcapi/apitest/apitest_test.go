package apitest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// recorder collects the errors a check reports instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

const doc = `{
  "openapi": "3.1.0",
  "paths": {
    "/v1/items": {"get": {"security": []}},
    "/v1/items/{id}": {"parameters": [], "delete": {"parameters": [{"$ref": "#/components/parameters/Nope"}]}}
  },
  "components": {"parameters": {}}
}`

func TestChecks(t *testing.T) {
	// The route table of a service: one route nobody documented, one
	// catch-all (no method) that needs no documentation.
	reg := []string{"GET /v1/items", "POST /v1/items/{id}/undocumented", "/v1/"}
	documented := Documented(t, []byte(doc))
	if len(documented) != 2 || !documented["GET /v1/items"].Public() || documented["DELETE /v1/items/{id}"].Public() {
		t.Fatalf("documented %+v", documented)
	}

	noop := func(http.ResponseWriter, *http.Request) {}
	mux := http.NewServeMux()
	for _, p := range reg {
		mux.HandleFunc(p, noop)
	}
	rec := &recorder{TB: t}
	CheckRoutes(rec, mux, reg, documented, map[string]string{"id": "7"})
	CheckRefs(rec, []byte(doc))
	got := strings.Join(rec.errs, "\n")
	for _, want := range []string{
		`route "POST /v1/items/{id}/undocumented" is registered but not in openapi.json`,
		`openapi.json documents "DELETE /v1/items/{id}", but the mux matches "/v1/"`,
		`$ref "#/components/parameters/Nope" does not resolve`,
		`delete /v1/items/{id}: path parameter "id" not declared`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
	if len(rec.errs) != 4 {
		t.Errorf("%d errors, want 4:\n%s", len(rec.errs), got)
	}
	if r := Request("PATCH /v1/items/{id}/{other}", map[string]string{"id": "7"}); r.Method != http.MethodPatch || r.URL.Path != "/v1/items/7/xother" {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
	}
	if r := Request("GET /v1/files/{path...}", map[string]string{"path": "a/b"}); r.URL.Path != "/v1/files/a/b" {
		t.Errorf("request of a wildcard: %s", r.URL.Path)
	}
	if got := DocPath("GET /v1/files/{path...}"); got != "GET /v1/files/{path}" {
		t.Errorf("DocPath = %q", got)
	}
}
