package manscdp

import (
	"encoding/xml"
	"reflect"
	"strings"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
)

// itemKind is what a catalog item is, judged from its DeviceID.
type itemKind int

const (
	kindDevice itemKind = iota
	kindCivil
	kindSystem
	kindGroup
	kindVirtualOrg
)

// classifyID judges a catalog item by its ID: 2/4/6/8 digits is a civil
// code, otherwise the type code (digits 11–13) decides.
func classifyID(id string) itemKind {
	if ids.IsCivilCode(id) {
		return kindCivil
	}
	parsed, err := ids.Parse(id)
	if err != nil {
		return kindDevice
	}
	switch {
	case parsed.Type.IsPlatform():
		return kindSystem
	case parsed.Type.IsBusinessGroup():
		return kindGroup
	case parsed.Type.IsVirtualOrg():
		return kindVirtualOrg
	}
	return kindDevice
}

// isStateEvent reports whether a NOTIFY event carries only DeviceID and Event.
func isStateEvent(ev string) bool {
	switch strings.ToUpper(ev) {
	case EventDel, EventOn, EventOff, EventVLost, EventDefect:
		return true
	}
	return false
}

// fieldFilter adjusts the edition's rule for one field of one kind of item.
type fieldFilter func(name string, include, must bool) (bool, bool)

func only(names ...string) fieldFilter {
	return func(name string, include, must bool) (bool, bool) {
		for _, n := range names {
			if n == name {
				return true, must
			}
		}
		return false, false
	}
}

// marshalVersion writes the item with the fields of edition v (2016 or 2022).
func (it *CatalogItem) marshalVersion(e *xml.Encoder, start xml.StartElement, v Version) error {
	item := *it
	if s := NormalizeStatus(item.Status); s != "" {
		item.Status = s
	}
	var filter fieldFilter
	full := false // device-shaped: BusinessGroupID goes where v wants it
	switch kind := classifyID(item.DeviceID); {
	case isStateEvent(item.Event):
		filter = only("DeviceID", "Event")
	case kind == kindCivil:
		filter = only("DeviceID", "Name", "Event")
	case kind == kindGroup:
		filter = only("DeviceID", "Name", "CivilCode", "ParentID", "Event")
	case kind == kindVirtualOrg:
		item.BusinessGroupID = it.EffectiveBusinessGroupID()
		filter = func(name string, include, must bool) (bool, bool) {
			switch name {
			case "DeviceID", "Name", "ParentID", "Event":
				return true, must
			case "BusinessGroupID":
				return true, true // top-level for 216 in both editions
			}
			return false, false
		}
	case kind == kindSystem && v == Version2022:
		full = true
		filter = func(name string, include, must bool) (bool, bool) {
			switch name {
			case "Parental", "Longitude", "Latitude", "Info":
				return false, false
			}
			return include, must
		}
	default:
		full = true
	}
	if full {
		moveBusinessGroup(&item, v)
	}
	return encodeVersioned(e, start, reflect.ValueOf(&item).Elem(), v, filter)
}

// moveBusinessGroup puts BusinessGroupID where edition v wants it.
func moveBusinessGroup(item *CatalogItem, v Version) {
	bg := item.EffectiveBusinessGroupID()
	if bg == "" {
		return
	}
	if v == Version2022 {
		item.BusinessGroupID = bg
		return
	}
	info := CatalogInfo{}
	if item.Info != nil {
		info = *item.Info
	}
	info.BusinessGroupID = bg
	item.Info = &info
}

// encodeVersioned writes the struct in rv as start, with the fields whose gb
// tag names edition v: mandatory ones always, the others when non-zero.
func encodeVersioned(e *xml.Encoder, start xml.StartElement, rv reflect.Value, v Version, filter fieldFilter) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		include, must := editionRule(f.Tag.Get("gb"), v)
		if filter != nil {
			include, must = filter(f.Name, include, must)
		}
		fv := rv.Field(i)
		if !include || (!must && fv.IsZero()) {
			continue
		}
		el := xml.StartElement{Name: xml.Name{Local: f.Name}}
		if fv.Kind() == reflect.Pointer && fv.Elem().Kind() == reflect.Struct {
			if fv.IsNil() || !hasEditionFields(fv.Elem(), v) {
				continue
			}
			if err := encodeVersioned(e, el, fv.Elem(), v, nil); err != nil {
				return err
			}
			continue
		}
		if err := e.EncodeElement(fv.Interface(), el); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// hasEditionFields reports whether a nested struct has anything to write for v.
func hasEditionFields(rv reflect.Value, v Version) bool {
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		include, must := editionRule(rt.Field(i).Tag.Get("gb"), v)
		if include && (must || !rv.Field(i).IsZero()) {
			return true
		}
	}
	return false
}

// editionRule parses a gb tag such as "16!,22": whether the field belongs to
// edition v and whether it is mandatory there.
func editionRule(tag string, v Version) (include, must bool) {
	want := "16"
	if v == Version2022 {
		want = "22"
	}
	for _, p := range strings.Split(tag, ",") {
		if strings.TrimSuffix(p, "!") == want {
			return true, strings.HasSuffix(p, "!")
		}
	}
	return false, false
}
