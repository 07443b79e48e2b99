package manscdp

import (
	"bytes"
	"fmt"
	"math"
)

// PeekResult is the header of a MANSCDP document as found by Peek.
type PeekResult struct {
	// Root is the root element, spelled as the Root constants for the four
	// MANSCDP roots and as received otherwise.
	Root Root
	// CmdType is the first CmdType child of the root, spelled as the Cmd
	// constants when it is one of them and as received otherwise.
	CmdType string
	// SN is the first SN child of the root; 0 when it is missing or empty.
	SN int
	// DeviceID is the first DeviceID child of the root; "" when missing.
	DeviceID string
}

// peekCmdTypes are the CmdType spellings Peek returns without allocating.
var peekCmdTypes = [...]string{
	CmdKeepalive, CmdCatalog, CmdDeviceInfo, CmdDeviceStatus, CmdRecordInfo, CmdDeviceControl, CmdDeviceConfig,
	CmdPresetQuery, CmdConfigDownload, CmdAlarm, CmdMobilePosition, CmdMediaStatus, CmdBroadcast,
}

// Peek returns the root element, CmdType, SN and DeviceID of a MANSCDP body
// without decoding it, for routing and the keepalive fast path: it looks at
// the bytes up to the last of the three (or the end of the root) and
// allocates only the DeviceID and an unusual CmdType.
//
// It tolerates what Decode tolerates in the header: a BOM, blanks, NULs or
// text before the root, a missing prolog, comments and processing
// instructions, names in any case or with a namespace prefix, blanks around
// values, GB2312/GBK bytes outside the header values and anything after the
// header. Where both succeed, Peek and Decode agree, except that Peek takes
// the first of repeated SN or DeviceID children and Decode the last.
//
// A header Peek cannot read cheaply (a value with an entity, a CDATA section,
// a comment, a child element or non-ASCII bytes; a DOCTYPE; non-ASCII names)
// gives an error wrapping ErrMalformed although Decode may accept it, so a
// caller that gets ErrMalformed and still needs the message uses Decode. A
// missing root or CmdType and a non-numeric SN wrap ErrMalformed too, an
// empty body ErrEmpty, a long one ErrTooLarge. A root other than the four
// gives ErrUnknownRoot together with whatever header was found.
func Peek(body []byte) (PeekResult, error) {
	var res PeekResult
	if len(body) > MaxBodySize {
		return res, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(body))
	}
	p := peeker{b: body}
	var haveCmd, haveSN, haveID bool
	for !haveCmd || !haveSN || !haveID {
		lt := bytes.IndexByte(p.b[p.i:], '<')
		if lt < 0 {
			break
		}
		p.i += lt + 1
		var err error
		switch {
		case p.i == len(p.b):
			err = errUnexpectedEOF
		case p.b[p.i] == '/':
			p.i++
			var name []byte
			if name, err = p.endTag(); err == nil {
				p.pop(name) // stray end tags are dropped, as Decode does
			}
		case p.b[p.i] == '?':
			err = p.skipProcInst()
		case p.b[p.i] == '!':
			err = p.skipComment()
		default:
			var name []byte
			var empty bool
			if name, empty, err = p.startTag(); err != nil {
				break
			}
			push := !empty // a header value is read with its end tag
			switch {
			case res.Root == "":
				res.Root = peekRoot(name)
			case p.depth != 1:
			case !haveCmd && asciiEqualFold(name, "CmdType"):
				haveCmd, push = true, false
				res.CmdType, err = p.cmdType(empty)
			case !haveSN && asciiEqualFold(name, "SN"):
				haveSN, push = true, false
				res.SN, err = p.sn(empty)
			case !haveID && asciiEqualFold(name, "DeviceID"):
				haveID, push = true, false
				var v []byte
				if v, err = p.value(empty, "DeviceID"); err == nil {
					res.DeviceID = string(v)
				}
			}
			if push {
				p.stack[p.depth] = name
				p.depth++
			}
		}
		if err != nil {
			return res, err
		}
		if res.Root != "" && p.depth == 0 {
			break // the root has ended
		}
	}

	switch {
	case res.Root == "" && len(trimBody(body)) == 0:
		return res, ErrEmpty
	case res.Root == "":
		return res, fmt.Errorf("%w: no root element", ErrMalformed)
	case p.depth > 0 && (!haveCmd || !haveSN || !haveID):
		return res, fmt.Errorf("%w: document ends inside <%s>", ErrMalformed, p.stack[p.depth-1])
	}
	switch res.Root {
	case RootQuery, RootControl, RootNotify, RootResponse:
	default:
		return res, fmt.Errorf("%w: %q", ErrUnknownRoot, res.Root)
	}
	if !haveCmd {
		return res, fmt.Errorf("%w: %s without CmdType", ErrMalformed, res.Root)
	}
	return res, nil
}

var errUnexpectedEOF = fmt.Errorf("%w: unexpected end of document", ErrMalformed)

// peeker scans a body the way Decode's tokenizer does, as far as the header
// needs: elements, attributes, comments and processing instructions. Names
// are compared as local names (after a namespace prefix) in any ASCII case.
type peeker struct {
	b     []byte
	i     int
	stack [maxDepth][]byte
	depth int
}

func peekRoot(name []byte) Root {
	for _, r := range [...]Root{RootQuery, RootControl, RootNotify, RootResponse} {
		if asciiEqualFold(name, string(r)) {
			return r
		}
	}
	return Root(name)
}

// name reads an ASCII XML name and returns its local part, as
// encoding/xml splits it: "a:b" has local part "b", while ":b" and "a:" are
// names without a prefix. A name with a non-ASCII byte is refused: Decode
// would see it after charset conversion, where case folding differs.
func (p *peeker) name() ([]byte, bool) {
	start := p.i
	for p.i < len(p.b) && isNameByte(p.b[p.i]) {
		p.i++
	}
	n := p.b[start:p.i]
	if len(n) == 0 || p.i < len(p.b) && p.b[p.i] >= 0x80 {
		return nil, false
	}
	if c := n[0]; c >= '0' && c <= '9' || c == '.' || c == '-' {
		return nil, false // not a name start character
	}
	switch bytes.Count(n, []byte(":")) {
	case 0:
		return n, true
	case 1:
		if k := bytes.IndexByte(n, ':'); k > 0 && k < len(n)-1 {
			return n[k+1:], true
		}
		return n, true
	default:
		return nil, false
	}
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

func (p *peeker) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// startTag reads a start tag after its '<' up to and including '>'.
// Attributes are skipped as the lenient decoder reads them: quoted,
// unquoted or without a value.
func (p *peeker) startTag() (name []byte, empty bool, err error) {
	if p.depth == maxDepth {
		return nil, false, fmt.Errorf("%w: nesting deeper than %d", ErrMalformed, maxDepth)
	}
	name, ok := p.name()
	if !ok {
		return nil, false, fmt.Errorf("%w: bad element name at offset %d", ErrMalformed, p.i)
	}
	for {
		p.space()
		if p.i == len(p.b) {
			return nil, false, errUnexpectedEOF
		}
		switch p.b[p.i] {
		case '>':
			p.i++
			return name, false, nil
		case '/':
			if p.i+1 < len(p.b) && p.b[p.i+1] == '>' {
				p.i += 2
				return name, true, nil
			}
			return nil, false, fmt.Errorf("%w: expected /> in <%s>", ErrMalformed, name)
		}
		if _, ok := p.name(); !ok {
			return nil, false, fmt.Errorf("%w: bad attribute name in <%s>", ErrMalformed, name)
		}
		p.space()
		if p.i == len(p.b) || p.b[p.i] != '=' {
			continue // attribute without value
		}
		p.i++
		p.space()
		if p.i == len(p.b) {
			return nil, false, errUnexpectedEOF
		}
		if q := p.b[p.i]; q == '"' || q == '\'' {
			k := bytes.IndexByte(p.b[p.i+1:], q)
			if k < 0 {
				return nil, false, errUnexpectedEOF
			}
			p.i += k + 2
			continue
		}
		for p.i < len(p.b) && isUnquotedByte(p.b[p.i]) {
			p.i++
		}
	}
}

func isUnquotedByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '-'
}

// endTag reads an end tag after its "</" up to and including '>'.
func (p *peeker) endTag() ([]byte, error) {
	name, ok := p.name()
	if !ok {
		return nil, fmt.Errorf("%w: bad end tag name at offset %d", ErrMalformed, p.i)
	}
	p.space()
	if p.i == len(p.b) || p.b[p.i] != '>' {
		return nil, fmt.Errorf("%w: bad end tag </%s", ErrMalformed, name)
	}
	p.i++
	return name, nil
}

// pop closes the innermost open element called name and those inside it,
// and reports false for an end tag that matches no open element.
func (p *peeker) pop(name []byte) bool {
	for k := p.depth - 1; k >= 0; k-- {
		if asciiEqualFold(p.stack[k], string(name)) {
			p.depth = k
			return true
		}
	}
	return false
}

func (p *peeker) skipProcInst() error {
	p.i++
	if _, ok := p.name(); !ok {
		return fmt.Errorf("%w: bad processing instruction at offset %d", ErrMalformed, p.i)
	}
	k := bytes.Index(p.b[p.i:], []byte("?>"))
	if k < 0 {
		return errUnexpectedEOF
	}
	p.i += k + 2
	return nil
}

// skipComment skips a comment. CDATA sections and directives are refused:
// devices do not send them, and a ']' after a GB lead byte would end a CDATA
// section in Decode's converted text but not in the raw bytes.
func (p *peeker) skipComment() error {
	if !bytes.HasPrefix(p.b[p.i:], []byte("!--")) {
		return fmt.Errorf("%w: CDATA or directive at offset %d, use Decode", ErrMalformed, p.i)
	}
	p.i += 3
	k := bytes.Index(p.b[p.i:], []byte("-->"))
	if k < 0 {
		return errUnexpectedEOF
	}
	p.i += k + 3
	return nil
}

// value reads the text of the header element just started (unless it was
// empty, <X/>) and its end tag, and returns the text without surrounding
// blanks. Only plain printable ASCII is accepted: anything else (markup,
// entities, GB bytes, control characters) reads differently after Decode's
// conversion and unescaping.
func (p *peeker) value(empty bool, elem string) ([]byte, error) {
	if empty {
		return nil, nil
	}
	k := bytes.IndexByte(p.b[p.i:], '<')
	if k < 0 || p.i+k+1 == len(p.b) {
		return nil, errUnexpectedEOF
	}
	v := bytes.Trim(p.b[p.i:p.i+k], " \t\r\n")
	p.i += k + 1
	if p.b[p.i] != '/' {
		return nil, fmt.Errorf("%w: markup inside <%s>, use Decode", ErrMalformed, elem)
	}
	p.i++
	name, err := p.endTag()
	if err != nil {
		return nil, err
	}
	// The element itself is not on the stack yet: match its own end tag
	// first, then let an ancestor's end tag close it implicitly.
	if !asciiEqualFold(name, elem) && !p.pop(name) {
		return nil, fmt.Errorf("%w: stray </%s> inside <%s>, use Decode", ErrMalformed, name, elem)
	}
	for _, c := range v {
		if c < 0x20 || c > 0x7e || c == '&' {
			return nil, fmt.Errorf("%w: <%s> is not plain ASCII, use Decode", ErrMalformed, elem)
		}
	}
	return v, nil
}

func (p *peeker) cmdType(empty bool) (string, error) {
	v, err := p.value(empty, "CmdType")
	if err != nil {
		return "", err
	}
	if len(v) == 0 {
		return "", fmt.Errorf("%w: empty CmdType", ErrMalformed)
	}
	for _, c := range peekCmdTypes {
		if asciiEqualFold(v, c) {
			return c, nil
		}
	}
	return string(v), nil
}

// sn parses the SN text as encoding/xml parses an int: empty is 0, else an
// optionally signed decimal within the range of int.
func (p *peeker) sn(empty bool) (int, error) {
	v, err := p.value(empty, "SN")
	if err != nil || len(v) == 0 {
		return 0, err
	}
	digits := v
	if digits[0] == '+' || digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return 0, fmt.Errorf("%w: SN %q is not a number", ErrMalformed, v)
	}
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: SN %q is not a number", ErrMalformed, v)
		}
		if n > (math.MaxInt+1)/10 {
			return 0, fmt.Errorf("%w: SN %q out of range", ErrMalformed, v)
		}
		n = n*10 + uint64(c-'0')
		if n > math.MaxInt+1 {
			return 0, fmt.Errorf("%w: SN %q out of range", ErrMalformed, v)
		}
	}
	if v[0] == '-' {
		return int(-n), nil // n ≤ -math.MinInt, checked above
	}
	if n > math.MaxInt {
		return 0, fmt.Errorf("%w: SN %q out of range", ErrMalformed, v)
	}
	return int(n), nil
}

// asciiEqualFold reports whether b and s are equal ignoring ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if x|0x20 >= 'a' && x|0x20 <= 'z' {
			x |= 0x20
		}
		if y|0x20 >= 'a' && y|0x20 <= 'z' {
			y |= 0x20
		}
		if x != y {
			return false
		}
	}
	return true
}
