package manscdp

import (
	"reflect"
	"strings"
	"testing"
)

// TestCanonicalNamesCoverTags checks every element name used in a struct
// tag is in the case-folding table, so no field silently stops matching.
func TestCanonicalNamesCoverTags(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] {
			return
		}
		seen[rt] = true
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			if strings.HasPrefix(rt.Name(), "List[") && f.Name == "Items" {
				checkName(t, "Item")
				checkName(t, "Num")
			}
			name, _, _ := strings.Cut(f.Tag.Get("xml"), ",")
			if name != "" && name != "-" {
				checkName(t, name)
			}
			walk(f.Type)
		}
	}
	for _, root := range []Root{RootQuery, RootControl, RootNotify, RootResponse} {
		checkName(t, string(root))
		for _, cmd := range []string{
			CmdKeepalive, CmdCatalog, CmdDeviceInfo, CmdDeviceStatus, CmdRecordInfo, CmdDeviceControl,
			CmdDeviceConfig, CmdPresetQuery, CmdConfigDownload, CmdAlarm, CmdMobilePosition, CmdMediaStatus, CmdBroadcast,
		} {
			if m, _ := newMessage(root, cmd); m != nil {
				walk(reflect.TypeOf(m))
			}
		}
	}
	if len(seen) < 30 {
		t.Fatalf("walked only %d types", len(seen))
	}
	if got := canonicalName("VendorExtra"); got != "VendorExtra" {
		t.Fatal(got)
	}
}

func checkName(t *testing.T, name string) {
	t.Helper()
	for _, v := range []string{name, strings.ToLower(name), strings.ToUpper(name)} {
		if got := canonicalName(v); got != name {
			t.Errorf("canonicalName(%q) = %q, want %q", v, got, name)
		}
	}
}

func TestClassifyID(t *testing.T) {
	for id, want := range map[string]itemKind{
		"34":                   kindCivil,
		"3402":                 kindCivil,
		"340200":               kindCivil,
		"34020000":             kindCivil,
		"3402000000":           kindDevice,
		"34020000002000000001": kindSystem,
		"34020000002150000001": kindGroup,
		"34020000002160000001": kindVirtualOrg,
		"34020000001320000001": kindDevice,
		"3402000000200":        kindDevice, // too short to carry a type code
		"340200000020000001":   kindSystem, // 18 digits, accepted leniently
		"34020a":               kindDevice,
		"":                     kindDevice,
	} {
		if got := classifyID(id); got != want {
			t.Errorf("classifyID(%q) = %d, want %d", id, got, want)
		}
	}
}

func TestPrologEncoding(t *testing.T) {
	for in, want := range map[string]string{
		`<?xml version="1.0" encoding="GB2312"?>`: "gb2312",
		`<?XML version="1.0" ENCODING = 'gbk' ?>`: "gbk",
		`<?xml version="1.0" encoding=UTF-8?>`:    "utf-8",
		`<?xml version="1.0" encoding=UTF-8 ?>`:   "utf-8",
		`<?xml version="1.0"?>`:                   "",
		`<?xml version="1.0" encoding?>`:          "",
		`<?xml version="1.0" encoding=?>`:         "",
		`<?xml version="1.0" encoding="gb2312`:    "",
		`<?xml version="1.0" encoding="gb2312?>`:  "",
		`<Notify/>`:                               "",
		`<?xm`:                                    "",
	} {
		if got := prologEncoding([]byte(in)); got != want {
			t.Errorf("prologEncoding(%q) = %q, want %q", in, got, want)
		}
	}
	if got := prologLabel([]byte("<a/>")); got != "GB18030" {
		t.Fatal(got)
	}
}
