package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// How a document describes the events of a text/event-stream answer (an
// OpenAPI 3.1 document has no itemSchema; that is 3.2): the media type's
// schema is a string whose contentSchema is the schema of one event's
// data, a oneOf with a discriminator. The discriminator's mapping names
// the schema of each SSE event name, and its property is the payload's
// field that repeats the name. The console's openapi.json (Event) is the
// example.
var (
	errNoEventSchema = errors.New("the document gives the stream no contentSchema with a discriminator mapping for its events")
	errUnknownEvent  = errors.New("event name not in the document's discriminator mapping")
)

// eventSchema is the schema of the events of a stream: the contentSchema
// of its media type's schema, with a discriminator mapping.
func eventSchema(mt *openapi3.MediaType) (*openapi3.Schema, error) {
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, errNoEventSchema
	}
	cs := mt.Schema.Value.ContentSchema
	if cs == nil || cs.Value == nil || cs.Value.Discriminator == nil || len(cs.Value.Discriminator.Mapping) == 0 {
		return nil, errNoEventSchema
	}
	return cs.Value, nil
}

// checkEvent checks the data of one event named name against events, the
// stream's event schema (eventSchema) of doc.
func checkEvent(doc *openapi3.T, events *openapi3.Schema, name string, data []byte) error {
	d := events.Discriminator
	ref, ok := d.Mapping[name]
	if !ok {
		return fmt.Errorf("%w: %q", errUnknownEvent, name)
	}
	schema, err := componentSchema(doc, ref.Ref)
	if err != nil {
		return err
	}
	var payload any
	if err := json.Unmarshal(data, &payload); err != nil {
		return fmt.Errorf("data is not JSON: %w", err)
	}
	if obj, ok := payload.(map[string]any); ok {
		if got := obj[d.PropertyName]; got != name {
			return fmt.Errorf("%s %v is not the event's name %q", d.PropertyName, got, name)
		}
		if laterVersion(schema, obj) {
			return nil
		}
	}
	var opts []openapi3.SchemaValidationOption
	if doc.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	if err := schema.VisitJSON(payload, opts...); err != nil {
		return fmt.Errorf("against %s: %w", ref.Ref, err)
	}
	return nil
}

// componentSchema returns the schema a mapping names: a reference to
// components/schemas.
func componentSchema(doc *openapi3.T, ref string) (*openapi3.Schema, error) {
	name, ok := strings.CutPrefix(ref, "#/components/schemas/")
	if !ok || doc.Components == nil {
		return nil, fmt.Errorf("mapping %q: not a reference to components/schemas", ref)
	}
	s := doc.Components.Schemas[name]
	if s == nil || s.Value == nil {
		return nil, fmt.Errorf("mapping %q: no such schema", ref)
	}
	return s.Value, nil
}

// laterVersion reports whether payload's "v" is greater than the const of
// the schema's "v": a payload of a version the document does not describe
// yet, which clients ignore (the browser tests send one on purpose). Any
// other "v" is checked against the schema.
func laterVersion(schema *openapi3.Schema, payload map[string]any) bool {
	vs := schema.Properties["v"]
	if vs == nil || vs.Value == nil {
		return false
	}
	documented, ok := vs.Value.Const.(float64)
	if !ok {
		return false
	}
	got, ok := payload["v"].(float64)
	return ok && got > documented
}

// sseEvent is one event of a stream.
type sseEvent struct {
	name string
	data []byte
}

// sseParser splits a text/event-stream into events as its bytes arrive
// (lines end in LF or CRLF). An event is complete at its blank line; one
// without data is no event, as for EventSource; comments are skipped.
type sseParser struct {
	pending []byte
	name    string
	data    [][]byte
}

// write feeds p and returns the events it completes.
func (s *sseParser) write(p []byte) []sseEvent {
	s.pending = append(s.pending, p...)
	var out []sseEvent
	for {
		i := bytes.IndexByte(s.pending, '\n')
		if i < 0 {
			return out
		}
		line := bytes.TrimSuffix(s.pending[:i], []byte("\r"))
		s.pending = s.pending[i+1:]
		if len(line) == 0 {
			if s.data != nil {
				name := s.name
				if name == "" {
					name = "message" // EventSource's default
				}
				out = append(out, sseEvent{name: name, data: bytes.Join(s.data, []byte("\n"))})
			}
			s.name, s.data = "", nil
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			s.name = string(value)
		case "data":
			s.data = append(s.data, append([]byte(nil), value...))
		}
	}
}
