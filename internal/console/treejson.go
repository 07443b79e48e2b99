package console

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"
)

// The tree of a large slice is the console's biggest answer (30,000
// channels are about 4 MB of JSON). encoding/json spent a third of the
// route's time on it, by reflection into a buffer grown to the whole
// answer; writeTree appends the same bytes by hand into a reused buffer
// and writes it out in chunks (docs/benchmarks.md, "Permission slices").

// treeChunk is how much JSON writeTree collects before writing it out.
const treeChunk = 64 << 10

var treeBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, treeChunk+4<<10)
	return &b
}}

// writeTree answers 200 with {"nodes":[…]}, byte for byte what
// svcapi.WriteJSON writes for map[string]any{"nodes": nodes}.
func writeTree(w http.ResponseWriter, nodes []*Node) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bp := treeBuffers.Get().(*[]byte)
	defer treeBuffers.Put(bp)
	tw := treeWriter{w: w, buf: (*bp)[:0]}
	tw.buf = append(tw.buf, `{"nodes":`...)
	tw.nodes(nodes)
	tw.buf = append(tw.buf, "}\n"...)
	tw.flush()
	*bp = tw.buf[:0]
	return tw.err
}

// treeWriter appends nodes' JSON to buf and writes buf to w whenever it
// holds treeChunk bytes. After a write error it only discards.
type treeWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (t *treeWriter) flush() {
	if t.err == nil && len(t.buf) > 0 {
		_, t.err = t.w.Write(t.buf)
	}
	t.buf = t.buf[:0]
}

// nodes appends a JSON array of nodes; nil is null, as encoding/json has it.
func (t *treeWriter) nodes(nodes []*Node) {
	if nodes == nil {
		t.buf = append(t.buf, "null"...)
		return
	}
	t.buf = append(t.buf, '[')
	for i, n := range nodes {
		if i > 0 {
			t.buf = append(t.buf, ',')
		}
		t.node(n)
		if len(t.buf) >= treeChunk {
			t.flush()
		}
	}
	t.buf = append(t.buf, ']')
}

// node appends n as encoding/json encodes Node: fields in declaration
// order, the omitempty ones left out when zero.
func (t *treeWriter) node(n *Node) {
	if n == nil {
		t.buf = append(t.buf, "null"...)
		return
	}
	t.buf = append(t.buf, `{"id":`...)
	b := appendJSONString(t.buf, n.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, n.Name)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, n.Kind)
	b = append(b, `,"online":`...)
	b = strconv.AppendBool(b, n.Online)
	if n.DeviceID != "" {
		b = append(b, `,"device_id":`...)
		b = appendJSONString(b, n.DeviceID)
	}
	if n.PTZType != 0 {
		b = append(b, `,"ptz_type":`...)
		b = strconv.AppendInt(b, int64(n.PTZType), 10)
	}
	if n.Code != "" {
		b = append(b, `,"code":`...)
		b = appendJSONString(b, n.Code)
	}
	if n.ChannelCount != 0 {
		b = append(b, `,"channel_count":`...)
		b = strconv.AppendInt(b, int64(n.ChannelCount), 10)
	}
	if n.OnlineCount != 0 {
		b = append(b, `,"online_count":`...)
		b = strconv.AppendInt(b, int64(n.OnlineCount), 10)
	}
	t.buf = b
	if len(n.Children) > 0 {
		t.buf = append(t.buf, `,"children":`...)
		t.nodes(n.Children)
	}
	t.buf = append(t.buf, '}')
}

const lowerHex = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json quotes it by default:
// invalid UTF-8 becomes U+FFFD, and besides '"', '\\' and control
// characters it escapes '<', '>', '&', U+2028 and U+2029 (so a name can
// never close a script element or a JavaScript string).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	from := 0 // start of the run not yet appended
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[from:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, `\b`...)
			case '\f':
				b = append(b, `\f`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xf])
			}
			i++
			from = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[from:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[from:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', lowerHex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		from = i
	}
	b = append(b, s[from:]...)
	return append(b, '"')
}
