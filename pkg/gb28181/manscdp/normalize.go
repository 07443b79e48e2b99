package manscdp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxDepth bounds element nesting; real documents are 4 levels deep.
const maxDepth = 32

// normReader is an xml.TokenReader over a UTF-8 body that hands the
// standard decoder a clean token stream: element and attribute names in
// their canonical case, values trimmed, no comments or processing
// instructions, end tags matched case-insensitively (stray ones dropped,
// missing ones synthesised) and EOF right after the root element, so
// whatever follows the root is never looked at.
type normReader struct {
	d       *xml.Decoder
	stack   []string
	pending []xml.Token
	done    bool
}

func newNormReader(body []byte) *normReader {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false // tolerate bare '&', unquoted attributes, HTML entities
	d.Entity = xml.HTMLEntity
	d.CharsetReader = passCharset
	return &normReader{d: d}
}

// Token implements xml.TokenReader.
func (r *normReader) Token() (xml.Token, error) {
	for {
		if len(r.pending) > 0 {
			t := r.pending[0]
			r.pending = r.pending[1:]
			return t, nil
		}
		if r.done {
			return nil, io.EOF
		}
		tok, err := r.d.RawToken()
		if err != nil {
			if errors.Is(err, io.EOF) && len(r.stack) > 0 {
				return nil, fmt.Errorf("%w: document ends inside <%s>", ErrMalformed, r.stack[len(r.stack)-1])
			}
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: no root element", ErrMalformed)
			}
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(r.stack) >= maxDepth {
				return nil, fmt.Errorf("%w: nesting deeper than %d", ErrMalformed, maxDepth)
			}
			name := canonicalName(t.Name.Local)
			var attrs []xml.Attr
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				attrs = append(attrs, xml.Attr{
					Name:  xml.Name{Local: canonicalName(a.Name.Local)},
					Value: strings.TrimSpace(a.Value),
				})
			}
			r.stack = append(r.stack, name)
			return xml.StartElement{Name: xml.Name{Local: name}, Attr: attrs}, nil
		case xml.EndElement:
			name := canonicalName(t.Name.Local)
			i := len(r.stack) - 1
			for i >= 0 && !strings.EqualFold(r.stack[i], name) {
				i--
			}
			if i < 0 {
				continue // stray end tag
			}
			for j := len(r.stack) - 1; j >= i; j-- {
				r.pending = append(r.pending, xml.EndElement{Name: xml.Name{Local: r.stack[j]}})
			}
			r.stack = r.stack[:i]
			r.done = len(r.stack) == 0
		case xml.CharData:
			if len(r.stack) == 0 {
				continue
			}
			if b := bytes.TrimSpace(t); len(b) > 0 {
				return xml.CharData(bytes.Clone(b)), nil
			}
		}
		// Comments, processing instructions and directives carry nothing we use.
	}
}

// sniff returns the root element and the CmdType text of a UTF-8 body
// without decoding the rest.
func sniff(body []byte) (Root, string, error) {
	r := newNormReader(body)
	var root Root
	inCmd := false
	for {
		tok, err := r.Token()
		if errors.Is(err, io.EOF) {
			return root, "", nil
		}
		if err != nil {
			return root, "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case root == "":
				root = Root(t.Name.Local)
			case len(r.stack) == 2 && t.Name.Local == "CmdType":
				inCmd = true
			}
		case xml.CharData:
			if inCmd {
				return root, string(t), nil
			}
		case xml.EndElement:
			if inCmd {
				return root, "", nil
			}
		}
	}
}
