package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
)

// auditSink stands for the console's audit API (auditapi) in stacks that
// run no console: mediagw fails closed, so every media open needs a row
// stored somewhere. It checks the service token and the body like the
// console does, keeps the rows and answers 204.
type auditSink struct {
	srv *httptest.Server

	mu    sync.Mutex
	opens []auditapi.MediaOpen
}

// newAuditSink starts a sink until the test ends.
func newAuditSink(t testing.TB) *auditSink {
	a := &auditSink{}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

// URL is the sink's base URL, for mediagw's audit.console_url.
func (a *auditSink) URL() string { return a.srv.URL }

func (a *auditSink) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != auditapi.PathMediaOpens {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+serviceToken {
		http.Error(w, `{"error":"bad token"}`, http.StatusUnauthorized)
		return
	}
	var m auditapi.MediaOpen
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || m.Validate() != nil {
		http.Error(w, `{"error":"bad media open"}`, http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.opens = append(a.opens, m)
	a.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// MediaOpens returns the rows stored so far.
func (a *auditSink) MediaOpens() []auditapi.MediaOpen {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]auditapi.MediaOpen(nil), a.opens...)
}
