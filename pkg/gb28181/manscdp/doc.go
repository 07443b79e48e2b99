// Package manscdp encodes and decodes MANSCDP, the XML command language of
// GB/T 28181 (Annex A), carried in SIP MESSAGE, SUBSCRIBE and NOTIFY bodies.
//
// Every document has one of four roots (Query, Control, Notify, Response)
// and a header of CmdType, SN and DeviceID. Decode sniffs the root and
// CmdType and returns a typed value, so callers switch on the Go type:
//
//	msg, err := manscdp.Decode(body)
//	switch m := msg.(type) {
//	case *manscdp.Keepalive:
//	case *manscdp.CatalogResponse:
//	case *manscdp.Unknown: // err wraps ErrUnknownCmdType or ErrUnknownRoot
//	}
//
// Decoding is lenient the way real devices require: GB2312/GBK/GB18030 or
// UTF-8 bodies (per the prolog, with a fallback for undeclared GB bytes),
// element and attribute names in any letter case, whitespace around values,
// a byte order mark or blanks before the prolog, and NULs or garbage after
// the root element. Encode writes the charset and, for Catalog items, the
// field profile of the 2016 or 2022 edition.
//
// Catalog and RecordInfo answers may be split over several messages
// (Annex N); Aggregator reassembles them and Paginate splits them.
package manscdp
