package manscdp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// MaxBodySize is the largest body Decode accepts. Real answers are a few
// KiB (UDP) to a few hundred KiB (a big catalog page over TCP).
const MaxBodySize = 1 << 20

// Version selects the edition profile Encode writes.
type Version int

// Editions. VersionUnion writes every field that is set, as decoded, which
// suits relaying and logging; the editions write the Catalog item fields of
// GB/T 28181-2016 or -2022 (other messages are the same in both).
const (
	VersionUnion Version = 0
	Version2016  Version = 2016
	Version2022  Version = 2022
)

// profile maps any edition number to the profile used: before 2022 is 2016.
func (v Version) profile() Version {
	switch {
	case v == VersionUnion:
		return VersionUnion
	case v >= Version2022:
		return Version2022
	default:
		return Version2016
	}
}

// Options control Encode.
type Options struct {
	// Charset of the output; empty means GB2312.
	Charset Charset
	// Version is the edition whose Catalog item profile is written.
	Version Version
}

// Decode parses a MANSCDP body and returns the typed message for its root
// and CmdType. For an unmodelled root or CmdType it returns an *Unknown with
// the header together with an error wrapping ErrUnknownRoot or
// ErrUnknownCmdType. See the package documentation for what is tolerated.
func Decode(body []byte) (Message, error) {
	if len(body) > MaxBodySize {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(body))
	}
	text, err := toUTF8(body)
	if err != nil {
		return nil, err
	}
	root, cmd, err := sniff(text)
	if err != nil {
		return nil, err
	}
	msg, canon := newMessage(root, cmd)
	var unknown error
	if msg == nil {
		msg = &Unknown{RootElement: root}
		switch root {
		case RootQuery, RootControl, RootNotify, RootResponse:
			unknown = fmt.Errorf("%w: %s %q", ErrUnknownCmdType, root, cmd)
		default:
			unknown = fmt.Errorf("%w: %q", ErrUnknownRoot, root)
		}
	}
	if err := xml.NewTokenDecoder(newNormReader(text)).Decode(msg); err != nil {
		if errors.Is(err, ErrMalformed) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s %s: %w", ErrMalformed, root, cmd, err)
	}
	if canon != "" {
		msg.Head().CmdType = canon
	}
	return msg, unknown
}

// newMessage returns an empty message for (root, cmd) and the canonical
// CmdType, or nil if the pair is not modelled. cmd matches in any case.
func newMessage(root Root, cmd string) (Message, string) {
	var m Message
	switch root {
	case RootQuery:
		m = pick(cmd, &CatalogQuery{}, &DeviceInfoQuery{}, &DeviceStatusQuery{}, &RecordInfoQuery{},
			&PresetQuery{}, &ConfigDownloadQuery{}, &AlarmQuery{}, &MobilePositionQuery{})
	case RootControl:
		m = pick(cmd, &DeviceControl{}, &DeviceConfig{})
	case RootNotify:
		m = pick(cmd, &Keepalive{}, &CatalogNotify{}, &AlarmNotify{}, &MobilePositionNotify{},
			&MediaStatusNotify{}, &BroadcastNotify{})
	case RootResponse:
		m = pick(cmd, &CatalogResponse{}, &DeviceInfoResponse{}, &DeviceStatusResponse{}, &RecordInfoResponse{},
			&DeviceControlResponse{}, &DeviceConfigResponse{}, &PresetQueryResponse{}, &ConfigDownloadResponse{},
			&AlarmResponse{}, &BroadcastResponse{})
	}
	if m == nil {
		return nil, ""
	}
	return m, m.cmdType()
}

func pick(cmd string, candidates ...Message) Message {
	for _, c := range candidates {
		if strings.EqualFold(c.cmdType(), cmd) {
			return c
		}
	}
	return nil
}

// validator is implemented by messages with constraints Encode must check.
type validator interface {
	Validate() error
}

// Encode writes msg as a MANSCDP body: an XML prolog naming the charset,
// then the document in that charset. CmdType is set from the message type;
// List Num attributes from the item counts. msg is not modified.
func Encode(msg Message, opts Options) ([]byte, error) {
	if msg == nil {
		return nil, fmt.Errorf("%w: nil message", ErrInvalidMessage)
	}
	rv := reflect.ValueOf(msg)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, fmt.Errorf("%w: nil message", ErrInvalidMessage)
	}
	root := msg.Root()
	if root == "" || strings.ContainsAny(string(root), " <>&\"'/") {
		return nil, fmt.Errorf("%w: root %q", ErrInvalidMessage, root)
	}
	if v, ok := msg.(validator); ok {
		if err := v.Validate(); err != nil {
			return nil, err
		}
	}

	// Work on a shallow copy so the caller's value is never touched.
	cp := reflect.New(rv.Elem().Type())
	cp.Elem().Set(rv.Elem())
	out := cp.Interface().(Message)
	out.Head().CmdType = out.cmdType()
	setListVersion(out, opts.Version.profile())

	enc, label := encoderFor(opts.Charset)
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="` + label + `"?>` + "\n")
	e := xml.NewEncoder(&buf)
	if err := e.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: string(root)}}); err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", root, out.Head().CmdType, err)
	}
	if err := e.Close(); err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", root, out.Head().CmdType, err)
	}
	buf.WriteByte('\n')
	return fromUTF8(buf.Bytes(), enc), nil
}

// setListVersion gives the copied message's catalog list its own copy
// carrying the edition, which List.MarshalXML reads.
func setListVersion(m Message, v Version) {
	var l **List[CatalogItem]
	switch t := m.(type) {
	case *CatalogResponse:
		l = &t.DeviceList
	case *CatalogNotify:
		l = &t.DeviceList
	default:
		return
	}
	if *l == nil {
		return
	}
	c := **l
	c.version = v
	*l = &c
}
