package apitest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const itemsDoc = `{
  "openapi": "3.1.0",
  "info": {"title": "items", "version": "1"},
  "servers": [{"url": "http://127.0.0.1:9999"}],
  "paths": {
    "/v1/items/{id}": {
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
      "get": {
        "responses": {
          "200": {"description": "the item", "content": {"application/json": {"schema": {
            "type": "object", "required": ["id", "name"], "additionalProperties": false,
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "note": {"type": ["string", "null"]}}}}}},
          "400": {"description": "bad", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    }
  },
  "components": {"schemas": {"Error": {"type": "object", "required": ["error", "code"],
    "properties": {"error": {"type": "string"}, "code": {"type": "string"}}}}}
}`

func TestValidator(t *testing.T) {
	// The double answers what the query asks for.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("answer") {
		case "ok":
			_ = json.NewEncoder(w).Encode(map[string]any{"id": 1, "name": "a", "note": nil})
		case "extra":
			_ = json.NewEncoder(w).Encode(map[string]any{"id": 1, "name": "a", "colour": "red"})
		case "missing":
			_ = json.NewEncoder(w).Encode(map[string]any{"id": 1})
		case "error":
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "bad id", "code": "bad_request"})
		case "no-code":
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "bad id"})
		case "undocumented-status":
			w.WriteHeader(http.StatusTeapot)
		case "text":
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("hello"))
		}
	})
	v := NewValidator(t, []byte(itemsDoc))
	for _, tc := range []struct {
		target string
		want   string // "" for no failure
	}{
		{"/v1/items/7?answer=ok", ""},
		{"/v1/items/7?answer=error", ""},
		{"/v1/items/x?answer=error", ""},
		{"/v1/items/x?answer=ok", "a request the document forbids"},
		{"/v1/items/7?answer=extra", "does not match the document"},
		{"/v1/items/7?answer=missing", "does not match the document"},
		{"/v1/items/7?answer=no-code", "does not match the document"},
		{"/v1/items/7?answer=undocumented-status", "does not match the document"},
		{"/v1/items/7?answer=text", "does not match the document"},
		{"/v1/other", "not in the OpenAPI document"},
	} {
		rec := &recorder{TB: t}
		res := httptest.NewRecorder()
		v.Handler(rec, h).ServeHTTP(res, httptest.NewRequest(http.MethodGet, tc.target, nil))
		got := strings.Join(rec.errs, "\n")
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: errors %q, want %q", tc.target, got, tc.want)
		}
		if strings.Contains(tc.target, "answer=ok") && !strings.Contains(res.Body.String(), `"name":"a"`) {
			t.Errorf("%s: the answer did not pass through: %q", tc.target, res.Body.String())
		}
	}
	if n := v.Exercised()["GET /v1/items/{id}"]; n != 9 {
		t.Errorf("exercised %d times, want 9", n)
	}
	if ops := v.Operations(); len(ops) != 1 || ops[0] != "GET /v1/items/{id}" {
		t.Errorf("operations %q", ops)
	}
}

const filesDoc = `{
  "openapi": "3.1.0",
  "info": {"title": "files", "version": "1"},
  "paths": {
    "/v1/files/{path}": {
      "parameters": [{"name": "path", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[a-z]+/[a-z/]+$"}}],
      "get": {"responses": {"200": {"description": "the file"}, "400": {"description": "bad path"}}}
    }
  }
}`

// TestValidatorMultiSegment: a documented {path} whose route ends in the
// ServeMux wildcard {path...} matches a path of several segments, its
// value is the whole rest of the path, and its requests count as the
// documented operation.
func TestValidatorMultiSegment(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("answer") == "bad" {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	for _, tc := range []struct {
		name     string
		patterns []string
		target   string
		want     string // "" for no failure
	}{
		{"wildcard", []string{"GET /v1/files/{path...}"}, "/v1/files/live/a/b", ""},
		{"wildcard, one segment", []string{"GET /v1/files/{path...}"}, "/v1/files/live", "a request the document forbids"},
		{"wildcard, refused", []string{"GET /v1/files/{path...}"}, "/v1/files/live?answer=bad", ""},
		{"no route table", nil, "/v1/files/live/a", "not in the OpenAPI document"},
		{"single-segment route", []string{"GET /v1/files/{path}"}, "/v1/files/live/a", "not in the OpenAPI document"},
		{"undocumented wildcard", []string{"GET /v1/other/{path...}"}, "/v1/files/live/a", "not in the OpenAPI document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := NewValidator(t, []byte(filesDoc), tc.patterns...)
			rec := &recorder{TB: t}
			v.Handler(rec, h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, tc.target, nil))
			got := strings.Join(rec.errs, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("%s: errors %q, want %q", tc.target, got, tc.want)
			}
			if n := v.Exercised()["GET /v1/files/{path}"]; tc.want == "" && n != 1 {
				t.Errorf("exercised %v, want GET /v1/files/{path} once", v.Exercised())
			}
		})
	}
}

const eventsDoc = `{
  "openapi": "3.1.0",
  "info": {"title": "events", "version": "1"},
  "paths": {
    "/v1/events": {"get": {"responses": {"200": {"description": "the stream", "content": {"text/event-stream": {"schema": {
      "type": "string", "contentMediaType": "text/event-stream", "contentSchema": {"$ref": "#/components/schemas/Event"}}}}}}}},
    "/v1/bare": {"get": {"responses": {"200": {"description": "a stream without events", "content": {"text/event-stream": {"schema": {"type": "string"}}}}}}}
  },
  "components": {"schemas": {
    "Event": {"oneOf": [{"$ref": "#/components/schemas/Moved"}],
      "discriminator": {"propertyName": "type", "mapping": {"item.moved": "#/components/schemas/Moved"}}},
    "Moved": {"type": "object", "required": ["v", "type", "item_id"], "additionalProperties": false, "properties": {
      "v": {"type": "integer", "const": 1}, "type": {"type": "string", "const": "item.moved"},
      "item_id": {"type": "string"}, "note": {"type": "string"}}}
  }}
}`

// TestValidatorEvents: each event of a stream is checked against the
// schema the document's discriminator mapping names for the event's name.
func TestValidatorEvents(t *testing.T) {
	const moved = `{"v":1,"type":"item.moved","item_id":"a"}`
	for _, tc := range []struct {
		name, path, stream string
		want               string // "" for no failure
	}{
		{"ok", "/v1/events", ": ping\n\nevent: item.moved\ndata: " + moved + "\n\n", ""},
		{"crlf, optional field", "/v1/events", "event: item.moved\r\ndata: {\"v\":1,\"type\":\"item.moved\",\"item_id\":\"a\",\"note\":\"n\"}\r\n\r\n", ""},
		{"data in two lines", "/v1/events", "event: item.moved\ndata: {\"v\":1,\"type\":\"item.moved\",\ndata: \"item_id\":\"a\"}\n\n", ""},
		{"a later version", "/v1/events", "event: item.moved\ndata: {\"v\":2,\"type\":\"item.moved\"}\n\n", ""},
		{"unfinished event", "/v1/events", "event: item.moved\ndata: {", ""},
		{"renamed field", "/v1/events", "event: item.moved\ndata: {\"v\":1,\"type\":\"item.moved\",\"itemId\":\"a\"}\n\n", `event "item.moved" does not match the document`},
		{"undocumented field", "/v1/events", "event: item.moved\ndata: {\"v\":1,\"type\":\"item.moved\",\"item_id\":\"a\",\"colour\":1}\n\n", "does not match"},
		{"an earlier version", "/v1/events", "event: item.moved\ndata: {\"v\":0,\"type\":\"item.moved\",\"item_id\":\"a\"}\n\n", "does not match"},
		{"type not the name", "/v1/events", "event: item.moved\ndata: {\"v\":1,\"type\":\"item.gone\",\"item_id\":\"a\"}\n\n", "is not the event's name"},
		{"unknown name", "/v1/events", "event: item.gone\ndata: " + moved + "\n\n", "not in the document's discriminator mapping"},
		{"no name", "/v1/events", "data: " + moved + "\n\n", `"message"`},
		{"not JSON", "/v1/events", "event: item.moved\ndata: moved\n\n", "not JSON"},
		{"events not described", "/v1/bare", "event: item.moved\ndata: " + moved + "\n\n", "no contentSchema"},
		{"only comments", "/v1/bare", ": ping\n\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				// Byte by byte: an event is checked whatever the writes' bounds.
				for i := range len(tc.stream) {
					_, _ = w.Write([]byte{tc.stream[i]})
				}
			})
			rec := &recorder{TB: t}
			res := httptest.NewRecorder()
			NewValidator(t, []byte(eventsDoc)).Handler(rec, h).ServeHTTP(res, httptest.NewRequest(http.MethodGet, tc.path, nil))
			got := strings.Join(rec.errs, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("errors %q, want %q", got, tc.want)
			}
			if res.Body.String() != tc.stream {
				t.Errorf("the stream did not pass through: %q", res.Body.String())
			}
		})
	}
}
