package manscdp

import (
	"encoding/xml"
	"strconv"
)

// Root is the name of a MANSCDP document's root element.
type Root string

// The four MANSCDP roots.
const (
	RootQuery    Root = "Query"
	RootControl  Root = "Control"
	RootNotify   Root = "Notify"
	RootResponse Root = "Response"
)

// CmdType values understood by this package.
const (
	CmdKeepalive      = "Keepalive"
	CmdCatalog        = "Catalog"
	CmdDeviceInfo     = "DeviceInfo"
	CmdDeviceStatus   = "DeviceStatus"
	CmdRecordInfo     = "RecordInfo"
	CmdDeviceControl  = "DeviceControl"
	CmdDeviceConfig   = "DeviceConfig"
	CmdPresetQuery    = "PresetQuery"
	CmdConfigDownload = "ConfigDownload"
	CmdAlarm          = "Alarm"
	CmdMobilePosition = "MobilePosition"
	CmdMediaStatus    = "MediaStatus"
	CmdBroadcast      = "Broadcast"
)

// Values of the Result element.
const (
	ResultOK    = "OK"
	ResultError = "ERROR"
)

// Header is the part every MANSCDP document starts with.
type Header struct {
	// CmdType names the command. Encode overwrites it with the value that
	// belongs to the message's Go type; Decode sets its canonical spelling.
	CmdType string `xml:"CmdType"`
	// SN correlates a Response with its request.
	SN int `xml:"SN"`
	// DeviceID is the device or channel the message is about.
	DeviceID string `xml:"DeviceID,omitempty"`
}

// Head returns h itself; it makes every message type satisfy Message.
func (h *Header) Head() *Header { return h }

// Message is a typed MANSCDP document. The concrete types are the structs
// of this package (e.g. *CatalogResponse) and *Unknown.
type Message interface {
	// Root is the root element of the document.
	Root() Root
	// Head gives access to CmdType, SN and DeviceID.
	Head() *Header
	cmdType() string
}

// CmdTypeOf returns the CmdType of msg's type (for *Unknown, the one decoded),
// whatever its Header says: the value Encode writes.
func CmdTypeOf(msg Message) string { return msg.cmdType() }

type queryRoot struct{}

// Root implements Message.
func (queryRoot) Root() Root { return RootQuery }

type controlRoot struct{}

// Root implements Message.
func (controlRoot) Root() Root { return RootControl }

type notifyRoot struct{}

// Root implements Message.
func (notifyRoot) Root() Root { return RootNotify }

type responseRoot struct{}

// Root implements Message.
func (responseRoot) Root() Root { return RootResponse }

// Unknown is a document whose root or CmdType this package does not model.
// Decode returns it together with ErrUnknownRoot or ErrUnknownCmdType so the
// caller can still answer (e.g. 415 or a Result ERROR) and log it.
type Unknown struct {
	Header
	// RootElement is the root element as received (canonical case for the known four).
	RootElement Root `xml:"-"`
}

// Root implements Message.
func (u *Unknown) Root() Root { return u.RootElement }

func (u *Unknown) cmdType() string { return u.CmdType }

// List is an element with a Num attribute and repeated Item children, such
// as DeviceList, RecordList, PresetList and Alarmstatus. Num is not stored:
// Encode writes len(Items), and Decode trusts the Items actually present.
type List[T any] struct {
	// Items are the Item children in document order.
	Items []T

	// version selects the Catalog item profile; set by Encode on a private copy.
	version Version
}

// versionedMarshaler is implemented by items whose fields depend on the edition.
type versionedMarshaler interface {
	marshalVersion(e *xml.Encoder, start xml.StartElement, v Version) error
}

// MarshalXML writes the list with Num set to the number of items.
func (l List[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start.Attr = []xml.Attr{{Name: xml.Name{Local: "Num"}, Value: strconv.Itoa(len(l.Items))}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	item := xml.StartElement{Name: xml.Name{Local: "Item"}}
	for i := range l.Items {
		var err error
		if vm, ok := any(&l.Items[i]).(versionedMarshaler); ok && l.version != VersionUnion {
			err = vm.marshalVersion(e, item, l.version)
		} else {
			err = e.EncodeElement(&l.Items[i], item)
		}
		if err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// UnmarshalXML reads the Item children and ignores anything else.
func (l *List[T]) UnmarshalXML(d *xml.Decoder, _ xml.StartElement) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "Item" {
				if err := d.Skip(); err != nil {
					return err
				}
				continue
			}
			var it T
			if err := d.DecodeElement(&it, &t); err != nil {
				return err
			}
			l.Items = append(l.Items, it)
		case xml.EndElement:
			return nil
		}
	}
}

// Len returns the number of items; a nil list has none.
func (l *List[T]) Len() int {
	if l == nil {
		return 0
	}
	return len(l.Items)
}
