package sipserver

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi/apitest"
)

// pathValues fill the route placeholders with ids the handlers accept.
var pathValues = map[string]string{"device": "34020000001320000001", "channel": "34020000001310000001"}

func TestOpenAPIVersion(t *testing.T) { apitest.CheckVersion(t, openAPI) }

func TestOpenAPIRoutes(t *testing.T) {
	mux := http.NewServeMux()
	(&API{}).Register(mux)
	routes := append(svcapi.Patterns((&API{}).routes()), "GET /internal/v1/openapi.json")
	apitest.CheckRoutes(t, mux, routes, apitest.Documented(t, openAPI), pathValues)
}

// TestOpenAPISecurity checks that the document says which routes need the
// token: the others answer without one, the secured ones 503 while no token
// is configured and 401 on a wrong one.
func TestOpenAPISecurity(t *testing.T) {
	apitest.CheckTokenRequired(t, openAPI, func(token string) *http.ServeMux {
		mux := http.NewServeMux()
		(&API{Token: token}).Register(mux)
		return mux
	}, pathValues)

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
func TestOpenAPIRefs(t *testing.T) { apitest.CheckRefs(t, openAPI) }
