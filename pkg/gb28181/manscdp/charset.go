package manscdp

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Charset is the character encoding of an encoded body, named as in the prolog.
type Charset string

// Charsets Encode can write. GB2312 is what most devices and platforms expect.
const (
	CharsetGB2312  Charset = "GB2312"
	CharsetGBK     Charset = "GBK"
	CharsetGB18030 Charset = "GB18030"
	CharsetUTF8    Charset = "UTF-8"
)

// prologEncoding returns the encoding pseudo-attribute of a leading <?xml ...?>, or "".
func prologEncoding(body []byte) string {
	if len(body) < 5 || !bytes.EqualFold(body[:5], []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(body, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := strings.ToLower(string(body[5:end]))
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if rest == "" {
		return ""
	}
	q := rest[0]
	if q != '"' && q != '\'' {
		// Unquoted label: up to the next blank.
		if j := strings.IndexAny(rest, " \t\r\n"); j >= 0 {
			return rest[:j]
		}
		return rest
	}
	j := strings.IndexByte(rest[1:], q)
	if j < 0 {
		return ""
	}
	return strings.TrimSpace(rest[1 : 1+j])
}

// trimBody drops what devices put around the document: a BOM, blanks and
// NULs before it, and NULs or junk after the last '>'.
func trimBody(body []byte) []byte {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	body = bytes.TrimLeft(body, " \t\r\n\x00")
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	// '>' is never a trail byte in GBK/GB18030, so this cannot split a character.
	if i := bytes.LastIndexByte(body, '>'); i >= 0 {
		body = body[:i+1]
	}
	return body
}

// toUTF8 returns the trimmed body as UTF-8. A body declared GB2312/GBK/GB18030
// is decoded with GB18030 (a superset) unless it is already valid UTF-8 —
// platforms that write a GB2312 prolog over UTF-8 text are common, and real
// GB text with hanzi is almost never valid UTF-8. An undeclared or UTF-8
// body that is not valid UTF-8 is taken to be GB18030.
func toUTF8(body []byte) ([]byte, error) {
	body = trimBody(body)
	if len(body) == 0 {
		return nil, ErrEmpty
	}
	if utf8.Valid(body) {
		return body, nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(body)
	if err != nil {
		return nil, fmt.Errorf("%w: decode %s: %w", ErrMalformed, prologLabel(body), err)
	}
	return out, nil
}

func prologLabel(body []byte) string {
	if l := prologEncoding(body); l != "" {
		return l
	}
	return "GB18030"
}

// passCharset is the xml.Decoder CharsetReader: bodies are converted to UTF-8
// before parsing, so any declared label is accepted as is.
func passCharset(_ string, r io.Reader) (io.Reader, error) { return r, nil }

// encoderFor returns the encoding for c and the label to put in the prolog.
func encoderFor(c Charset) (encoding.Encoding, string) {
	switch strings.ToUpper(string(c)) {
	case "", "GB2312":
		return simplifiedchinese.GBK, string(CharsetGB2312)
	case "GBK":
		return simplifiedchinese.GBK, string(CharsetGBK)
	case "GB18030":
		return simplifiedchinese.GB18030, string(CharsetGB18030)
	default:
		return nil, string(CharsetUTF8)
	}
}

// fromUTF8 converts an encoded UTF-8 document to enc. Characters the charset
// cannot represent become '?', so one odd name does not fail a whole catalog.
func fromUTF8(b []byte, enc encoding.Encoding) []byte {
	if enc == nil {
		return b
	}
	if out, err := enc.NewEncoder().Bytes(b); err == nil {
		return out
	}
	e := enc.NewEncoder()
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		_, n := utf8.DecodeRune(b)
		if c, err := e.Bytes(b[:n]); err == nil {
			out = append(out, c...)
		} else {
			out = append(out, '?')
		}
		b = b[n:]
	}
	return out
}
