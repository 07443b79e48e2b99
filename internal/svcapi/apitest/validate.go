package apitest

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator checks real requests and answers against an OpenAPI document
// (kin-openapi's openapi3filter, JSON Schema 2020-12 for a 3.1 document):
// the answer's status must be documented for the operation, and its
// content type and body must match the documented response. A request the
// document calls invalid must be refused (4xx): the tests that send bad
// input on purpose then check that the service refuses what the document
// forbids.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	// docPath maps the router's templates of multi-segment routes back to
	// the document's paths.
	docPath map[string]string
	// mu guards seen.
	mu   sync.Mutex
	seen map[string]int
}

// NewValidator loads doc (JSON or YAML) and fails t when it does not load
// or does not validate as an OpenAPI document. patterns are the ServeMux
// patterns of the service's route table (svcapi.Patterns), needed only
// when one ends in a wildcard ({name...}): OpenAPI has no parameter that
// spans segments, so the document spells it {name} (DocPath) and the
// validator matches that parameter across segments from the pattern.
func NewValidator(t testing.TB, doc []byte, patterns ...string) *Validator {
	t.Helper()
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(doc)
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	if err := d.Validate(loader.Context); err != nil {
		t.Fatalf("OpenAPI document does not validate: %v", err)
	}
	// Routes are matched by path alone: the tests' servers listen on other
	// addresses than the document's servers.
	d.Servers = nil
	routed, docPath := multiSegment(d, patterns)
	r, err := gorillamux.NewRouter(routed)
	if err != nil {
		t.Fatalf("route OpenAPI document: %v", err)
	}
	return &Validator{doc: d, router: r, docPath: docPath, seen: map[string]int{}}
}

// wildcard is a ServeMux pattern's trailing multi-segment wildcard.
var wildcard = regexp.MustCompile(`\{([^{}/]+)\.\.\.\}$`)

// multiSegment returns doc to route with: a copy in which each documented
// path of a pattern ending in {name...} has its {name} match one or more
// segments (gorilla/mux's {name:.+}), and the map from those templates
// back to the document's paths. doc is returned as it is when no pattern
// has a wildcard.
func multiSegment(doc *openapi3.T, patterns []string) (*openapi3.T, map[string]string) {
	docPath := map[string]string{}
	for _, p := range patterns {
		if _, path, ok := strings.Cut(p, " "); ok {
			p = path
		}
		m := wildcard.FindStringSubmatch(p)
		if m == nil || doc.Paths.Value(DocPath(p)) == nil {
			continue // an undocumented route fails where it is requested
		}
		docPath[strings.TrimSuffix(p, m[0])+"{"+m[1]+":.+}"] = DocPath(p)
	}
	if len(docPath) == 0 {
		return doc, docPath
	}
	template := make(map[string]string, len(docPath))
	for tmpl, path := range docPath {
		template[path] = tmpl
	}
	routed := *doc
	routed.Paths = openapi3.NewPathsWithCapacity(doc.Paths.Len())
	for path, item := range doc.Paths.Map() {
		if tmpl, ok := template[path]; ok {
			path = tmpl
		}
		routed.Paths.Set(path, item)
	}
	return &routed, docPath
}

// Handler wraps h so that every request it serves and every answer it
// writes are checked against the document; a mismatch fails t (from the
// serving goroutine, with t.Errorf). A stream (text/event-stream) has its
// status and content type checked when it ends, and each event as it is
// written, against the schema the document gives its name (eventSchema):
// the failure shows while the test still reads the stream.
func (v *Validator) Handler(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("%s %s: read request body: %v", r.Method, r.URL.Path, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		route, params, err := v.router.FindRoute(v.routable(r))
		if err != nil {
			t.Errorf("%s %s: not in the OpenAPI document: %v", r.Method, r.URL.Path, err)
			h.ServeHTTP(w, r)
			return
		}
		in := &openapi3filter.RequestValidationInput{
			Request:    v.routable(r.Clone(r.Context())),
			PathParams: params,
			Route:      route,
			Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		in.Request.Body = io.NopCloser(bytes.NewReader(body))
		reqErr := openapi3filter.ValidateRequest(context.WithoutCancel(r.Context()), in)

		rec := &teeWriter{ResponseWriter: w}
		var events *openapi3.Schema
		var eventsErr error
		rec.onEvent = func(status int, ev sseEvent) {
			if events == nil && eventsErr == nil {
				if events, eventsErr = eventSchema(streamType(route, status)); eventsErr != nil {
					t.Errorf("%s %s: answer %d: %v", r.Method, r.URL.RequestURI(), status, eventsErr)
				}
			}
			if eventsErr != nil {
				return
			}
			if err := checkEvent(v.doc, events, ev.name, ev.data); err != nil {
				t.Errorf("%s %s: event %q does not match the document: %v\n%s", r.Method, r.URL.RequestURI(), ev.name, err, clip(ev.data))
			}
		}
		h.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		path := route.Path
		if p, ok := v.docPath[path]; ok {
			path = p
		}
		v.count(route.Method + " " + path)
		if reqErr != nil && status < 400 {
			t.Errorf("%s %s: answered %d to a request the document forbids: %v", r.Method, r.URL.RequestURI(), status, reqErr)
		}
		if err := v.checkAnswer(in, status, rec.Header(), rec.body.Bytes()); err != nil {
			t.Errorf("%s %s: answer %d does not match the document: %v\n%s", r.Method, r.URL.RequestURI(), status, err, clip(rec.body.Bytes()))
		}
	})
}

// checkAnswer validates one answer of the request in.
func (v *Validator) checkAnswer(in *openapi3filter.RequestValidationInput, status int, h http.Header, body []byte) error {
	opts := &openapi3filter.Options{IncludeResponseStatus: true}
	if isStream(h) {
		// Its events were checked as they were written.
		opts.ExcludeResponseBody = true
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 h,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	})
}

// streamType returns the text/event-stream media type of the documented
// answer status of route's operation, or nil.
func streamType(route *routers.Route, status int) *openapi3.MediaType {
	if route.Operation == nil || route.Operation.Responses == nil {
		return nil
	}
	resp := route.Operation.Responses.Status(status)
	if resp == nil {
		resp = route.Operation.Responses.Default()
	}
	if resp == nil || resp.Value == nil {
		return nil
	}
	return resp.Value.Content.Get(eventStream)
}

// routable returns r with an absolute URL, which the router matches.
func (v *Validator) routable(r *http.Request) *http.Request {
	if r.URL.Host != "" {
		return r
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	if u.Host == "" {
		u.Host = "localhost"
	}
	c := r.Clone(r.Context())
	c.URL = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
	return c
}

func (v *Validator) count(op string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seen[op]++
}

// Exercised returns how many checked requests each documented operation
// ("GET /internal/v1/devices/{device}") had.
func (v *Validator) Exercised() map[string]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]int, len(v.seen))
	for k, n := range v.seen {
		out[k] = n
	}
	return out
}

// Operations returns every operation of the document, as Exercised names them.
func (v *Validator) Operations() []string {
	var out []string
	for path, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	return out
}

// clip shortens a body for a failure message.
func clip(b []byte) string {
	const n = 2000
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// eventStream is the media type of server-sent events.
const eventStream = "text/event-stream"

// isStream reports whether h are the headers of an event stream.
func isStream(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == eventStream
}

// teeWriter passes an answer through and keeps a copy to check; an event
// stream it parses instead, and hands each event to onEvent as it is
// written.
type teeWriter struct {
	http.ResponseWriter
	status  int
	body    bytes.Buffer
	onEvent func(status int, ev sseEvent)
	// sse is the parser of an event stream, set at its first write.
	sse *sseParser
}

func (w *teeWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *teeWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.sse == nil && w.body.Len() == 0 && isStream(w.Header()) {
		w.sse = &sseParser{}
	}
	if w.sse == nil {
		w.body.Write(p)
		return w.ResponseWriter.Write(p)
	}
	// Checked before the client can read it: the test is still running.
	for _, ev := range w.sse.write(p) {
		w.onEvent(w.status, ev)
	}
	return w.ResponseWriter.Write(p)
}

// Flush lets streams through.
func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
