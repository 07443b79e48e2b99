package manscdp_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

func fullItem(id string) manscdp.CatalogItem {
	return manscdp.CatalogItem{
		DeviceID: id, Name: "一楼大厅", Manufacturer: "Hikvision", Model: "IPC", Owner: "Owner", CivilCode: "340200",
		Block: "B", Address: "Addr", Parental: 1, ParentID: "34020000002150000001", SafetyWay: 1, RegisterWay: 1,
		SecurityLevelCode: "2", CertNum: "C1", Certifiable: 1, ErrCode: 2, EndTime: manscdp.Time{}, Secrecy: 0,
		IPAddress: "10.0.0.2", Port: 8000, Password: "pw", Status: "ONLINE", Longitude: 1.5, Latitude: 2.5,
		Info: &manscdp.CatalogInfo{
			PTZType: "1", PositionType: 1, UseType: 2, RoomType: 1, BusinessGroupID: "34020000002150000009",
			GrassrootsCode: "g", StreamNumberList: "0/1",
		},
	}
}

// encodeItem encodes one catalog item with version v and returns the Item element.
func encodeItem(t *testing.T, it manscdp.CatalogItem, v manscdp.Version) string {
	t.Helper()
	m := &manscdp.CatalogNotify{
		Header: manscdp.Header{SN: 1, DeviceID: "34020000002000000001"}, SumNum: 1,
		DeviceList: &manscdp.List[manscdp.CatalogItem]{Items: []manscdp.CatalogItem{it}},
	}
	b, err := manscdp.Encode(m, manscdp.Options{Charset: manscdp.CharsetUTF8, Version: v})
	if err != nil {
		t.Fatal(err)
	}
	// The result must still decode.
	if _, err := manscdp.Decode(b); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	s := string(b)
	return s[strings.Index(s, "<Item>"):strings.Index(s, "</Item>")]
}

func TestCatalogEditionProfiles(t *testing.T) {
	cases := []struct {
		name    string
		id      string
		event   string
		v       manscdp.Version
		has     []string
		hasNot  []string
		exactly string
	}{
		{
			name: "2016 device", id: "34020000001320000001", v: manscdp.Version2016,
			has:    []string{"<Owner>Owner</Owner>", "<SafetyWay>1</SafetyWay>", "<CertNum>C1</CertNum>", "<Certifiable>1</Certifiable>", "<ErrCode>2</ErrCode>", "<Status>ON</Status>", "<Parental>1</Parental>", "<PositionType>1</PositionType>", "<UseType>2</UseType>", "<Info><PTZType>1</PTZType>", "<BusinessGroupID>34020000002150000009</BusinessGroupID>"},
			hasNot: []string{"SecurityLevelCode", "GrassrootsCode", "StreamNumberList", "<EndTime>"},
		},
		{
			name: "2022 device", id: "34020000001320000001", v: manscdp.Version2022,
			has:    []string{"<SecurityLevelCode>2</SecurityLevelCode>", "<ParentID>34020000002150000001</ParentID><BusinessGroupID>34020000002150000009</BusinessGroupID>", "<GrassrootsCode>g</GrassrootsCode>", "<StreamNumberList>0/1</StreamNumberList>", "<Status>ON</Status>"},
			hasNot: []string{"Owner", "SafetyWay", "CertNum", "Certifiable", "ErrCode", "EndTime", "PositionType", "UseType", "<Info><BusinessGroupID>"},
		},
		{
			name: "union", id: "34020000001320000001", v: manscdp.VersionUnion,
			has: []string{"<Owner>Owner</Owner>", "<SecurityLevelCode>2</SecurityLevelCode>", "<Status>ONLINE</Status>", "<GrassrootsCode>g</GrassrootsCode>", "<PositionType>1</PositionType>"},
		},
		{
			name: "2022 civil", id: "340200", v: manscdp.Version2022,
			exactly: "<Item><DeviceID>340200</DeviceID><Name>一楼大厅</Name>",
		},
		{
			name: "2016 civil", id: "34020000", v: manscdp.Version2016,
			exactly: "<Item><DeviceID>34020000</DeviceID><Name>一楼大厅</Name>",
		},
		{
			name: "2022 system", id: "34020000002000000001", v: manscdp.Version2022,
			has:    []string{"<Manufacturer>", "<Status>ON</Status>", "<RegisterWay>1</RegisterWay>", "<BusinessGroupID>"},
			hasNot: []string{"Parental", "Longitude", "Latitude", "<Info>"},
		},
		{
			name: "2016 system", id: "34020000002000000001", v: manscdp.Version2016,
			has: []string{"<Parental>1</Parental>", "<Longitude>1.5</Longitude>", "<Info>"},
		},
		{
			name: "2022 group", id: "34020000002150000001", v: manscdp.Version2022,
			exactly: "<Item><DeviceID>34020000002150000001</DeviceID><Name>一楼大厅</Name><CivilCode>340200</CivilCode><ParentID>34020000002150000001</ParentID>",
		},
		{
			name: "2022 virtual org", id: "34020000002160000001", v: manscdp.Version2022,
			exactly: "<Item><DeviceID>34020000002160000001</DeviceID><Name>一楼大厅</Name><ParentID>34020000002150000001</ParentID><BusinessGroupID>34020000002150000009</BusinessGroupID>",
		},
		{
			name: "2016 virtual org", id: "34020000002160000001", v: manscdp.Version2016,
			exactly: "<Item><DeviceID>34020000002160000001</DeviceID><Name>一楼大厅</Name><ParentID>34020000002150000001</ParentID><BusinessGroupID>34020000002150000009</BusinessGroupID>",
		},
		{
			name: "2022 OFF event", id: "34020000001320000001", event: manscdp.EventOff, v: manscdp.Version2022,
			exactly: "<Item><DeviceID>34020000001320000001</DeviceID><Event>OFF</Event>",
		},
		{
			name: "2016 DEL event", id: "34020000001320000001", event: "del", v: manscdp.Version2016,
			exactly: "<Item><DeviceID>34020000001320000001</DeviceID><Event>del</Event>",
		},
		{
			name: "2016 ADD event", id: "34020000001320000001", event: manscdp.EventAdd, v: 2011,
			has: []string{"<Owner>Owner</Owner>", "<Event>ADD</Event>"},
		},
		{
			name: "non-numeric id is a device", id: "cam-1", v: 2030,
			has: []string{"<SecurityLevelCode>"}, hasNot: []string{"<Owner>"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			it := fullItem(c.id)
			it.Event = c.event
			got := encodeItem(t, it, c.v)
			if c.exactly != "" && got != c.exactly {
				t.Fatalf("got  %s\nwant %s", got, c.exactly)
			}
			for _, s := range c.has {
				if !strings.Contains(got, s) {
					t.Errorf("missing %s in %s", s, got)
				}
			}
			for _, s := range c.hasNot {
				if strings.Contains(got, s) {
					t.Errorf("unexpected %s in %s", s, got)
				}
			}
		})
	}
}

func TestCatalogEditionMandatory(t *testing.T) {
	got := encodeItem(t, manscdp.CatalogItem{DeviceID: "34020000001320000001"}, manscdp.Version2016)
	want := "<Item><DeviceID>34020000001320000001</DeviceID><Name></Name><Manufacturer></Manufacturer><Model></Model><Owner></Owner><CivilCode></CivilCode><Address></Address><Parental>0</Parental><SafetyWay>0</SafetyWay><RegisterWay>0</RegisterWay><Secrecy>0</Secrecy><Status></Status>"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// 2016 moves a top-level BusinessGroupID into Info; 2022 keeps it top-level.
	it := manscdp.CatalogItem{DeviceID: "34020000001320000001", BusinessGroupID: "bg"}
	if got := encodeItem(t, it, manscdp.Version2016); !strings.Contains(got, "<Info><BusinessGroupID>bg</BusinessGroupID></Info>") {
		t.Fatal(got)
	}
	it.Info = &manscdp.CatalogInfo{PositionType: 1}
	got = encodeItem(t, it, manscdp.Version2022)
	if !strings.Contains(got, "<BusinessGroupID>bg</BusinessGroupID>") || strings.Contains(got, "<Info>") {
		t.Fatalf("2022 with only 2016 Info members: %s", got)
	}
}

func TestCatalogVersionDoesNotLeak(t *testing.T) {
	m := &manscdp.CatalogResponse{
		Header: manscdp.Header{SN: 1}, SumNum: 1,
		DeviceList: &manscdp.List[manscdp.CatalogItem]{Items: []manscdp.CatalogItem{fullItem("34020000001320000001")}},
	}
	before := *m.DeviceList
	if _, err := manscdp.Encode(m, manscdp.Options{Version: manscdp.Version2022}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, *m.DeviceList) {
		t.Fatal("Encode changed the caller's list")
	}
	b, _ := manscdp.Encode(m, manscdp.Options{Charset: manscdp.CharsetUTF8})
	if !bytes.Contains(b, []byte("<Status>ONLINE</Status>")) {
		t.Fatalf("union encode after 2022 encode: %s", b)
	}
}

func TestNormalizeStatus(t *testing.T) {
	for in, want := range map[string]string{
		"ON": "ON", "on": "ON", " OK ": "ON", "ONLINE": "ON", "Online": "ON", //nolint:gocritic // padded keys are the point
		"OFF": "OFF", "off": "OFF", "OFFLINE": "OFF", "": "", "ERROR": "", "1": "",
	} {
		if got := manscdp.NormalizeStatus(in); got != want {
			t.Errorf("NormalizeStatus(%q) = %q, want %q", in, got, want)
		}
	}
	if !(&manscdp.CatalogItem{Status: "ok"}).Online() || (&manscdp.CatalogItem{Status: "OFFLINE"}).Online() {
		t.Fatal("Online")
	}
}

func TestParentIDs(t *testing.T) {
	for in, want := range map[string][]string{
		"":          nil,
		"a":         {"a"},
		"a/b":       {"a", "b"},
		" a / / b/": {"a", "b"}, //nolint:gocritic // padded keys are the point
		"/":         nil,
	} {
		it := manscdp.CatalogItem{ParentID: in}
		if got := it.ParentIDs(); !reflect.DeepEqual(got, want) {
			t.Errorf("ParentIDs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEffectiveBusinessGroupID(t *testing.T) {
	cases := []struct {
		it   manscdp.CatalogItem
		want string
	}{
		{manscdp.CatalogItem{}, ""},
		{manscdp.CatalogItem{BusinessGroupID: "top"}, "top"},
		{manscdp.CatalogItem{Info: &manscdp.CatalogInfo{BusinessGroupID: "info"}}, "info"},
		{manscdp.CatalogItem{BusinessGroupID: "top", Info: &manscdp.CatalogInfo{BusinessGroupID: "info"}}, "top"},
	}
	for _, c := range cases {
		if got := c.it.EffectiveBusinessGroupID(); got != c.want {
			t.Errorf("got %q want %q", got, c.want)
		}
	}
}
