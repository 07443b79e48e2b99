package mediagw

import (
	"slices"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi/apitest"
)

func TestOpenAPIVersion(t *testing.T) { apitest.CheckVersion(t, openAPI) }

// TestOpenAPIRoutes: the route table Register serves is what openapi.json
// documents, no more and no less ({path...} is the document's {path}).
func TestOpenAPIRoutes(t *testing.T) {
	var registered []string
	for _, p := range svcapi.Patterns((&API{}).routes()) {
		registered = append(registered, apitest.DocPath(p))
	}
	var documented []string
	for p := range apitest.Documented(t, openAPI) {
		if p != "GET /internal/v1/openapi.json" {
			documented = append(documented, p)
		}
	}
	slices.Sort(registered)
	slices.Sort(documented)
	if !slices.Equal(registered, documented) {
		t.Fatalf("routes served:\n%q\nroutes documented:\n%q", registered, documented)
	}
}
