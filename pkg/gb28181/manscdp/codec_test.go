package manscdp_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func gb(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const keepaliveBody = "<Notify><CmdType>Keepalive</CmdType><SN>43</SN><DeviceID>34020000001320000001</DeviceID><Status>OK</Status></Notify>"

// TestDecodeQuirks feeds the sloppy forms devices send; each must decode to
// the same keepalive.
func TestDecodeQuirks(t *testing.T) {
	want := &manscdp.Keepalive{Header: manscdp.Header{CmdType: "Keepalive", SN: 43, DeviceID: "34020000001320000001"}, Status: "OK"}
	prolog := `<?xml version="1.0" encoding="GB2312"?>` + "\r\n"
	cases := map[string]string{
		"plain":              prolog + keepaliveBody,
		"no prolog":          keepaliveBody,
		"leading blanks":     " \r\n\t" + prolog + keepaliveBody,
		"bom":                "\xef\xbb\xbf" + prolog + keepaliveBody,
		"trailing NULs":      prolog + keepaliveBody + "\x00\x00\x00",
		"garbage after root": prolog + keepaliveBody + "\r\n--boundary <junk",
		"lowercase names":    "<notify><cmdtype>Keepalive</cmdtype><sn>43</sn><deviceid>34020000001320000001</deviceid><status>OK</status></notify>",
		"upper names":        "<NOTIFY><CMDTYPE>Keepalive</CMDTYPE><SN>43</SN><DEVICEID>34020000001320000001</DEVICEID><STATUS>OK</STATUS></NOTIFY>",
		"mixed close case":   "<Notify><CmdType>Keepalive</cmdtype><SN>43</sn><DeviceID>34020000001320000001</deviceID><Status>OK</STATUS></notify>",
		"lowercase cmdtype":  "<Notify><CmdType>keepalive</CmdType><SN>43</SN><DeviceID>34020000001320000001</DeviceID><Status>OK</Status></Notify>",
		"spaces in values":   "<Notify>\n <CmdType> Keepalive </CmdType>\n <SN>\t43 </SN>\n <DeviceID> 34020000001320000001\n</DeviceID>\n <Status> OK </Status>\n</Notify>",
		"comments":           "<!-- hi --><Notify><CmdType>Keepalive</CmdType><!-- x --><SN>43</SN><DeviceID>34020000001320000001</DeviceID><Status>OK</Status></Notify>",
		"utf8 prolog":        `<?xml version="1.0" encoding="utf-8"?>` + keepaliveBody,
		"single quotes":      `<?xml version='1.0' encoding='gbk'?>` + keepaliveBody,
		"namespace":          `<Notify xmlns="urn:x"><CmdType>Keepalive</CmdType><SN>43</SN><DeviceID>34020000001320000001</DeviceID><Status>OK</Status></Notify>`,
		"stray end tag":      "<Notify><CmdType>Keepalive</CmdType></Info><SN>43</SN><DeviceID>34020000001320000001</DeviceID><Status>OK</Status></Notify>",
		"unclosed child":     "<Notify><CmdType>Keepalive</CmdType><SN>43</SN><DeviceID>34020000001320000001</DeviceID><Status>OK</Status><Info></Notify>",
		"bare ampersand":     "<Notify><CmdType>Keepalive</CmdType><SN>43</SN><DeviceID>34020000001320000001</DeviceID><Status>OK</Status><X>a & b</X></Notify>",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := manscdp.Decode([]byte(body))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			got, ok := m.(*manscdp.Keepalive)
			if !ok {
				t.Fatalf("got %T", m)
			}
			got.Info = nil // "unclosed child" leaves an empty Info
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func TestDecodeCharsets(t *testing.T) {
	name := "大门口摄像机"
	item := func(n []byte) []byte {
		return append(append([]byte("<Response><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>34020000001180000001</DeviceID><SumNum>1</SumNum><DeviceList Num=\"1\"><Item><DeviceID>34020000001310000001</DeviceID><Name>"), n...),
			"</Name></Item></DeviceList></Response>"...)
	}
	cases := map[string][]byte{
		"GB2312 declared":         append([]byte(`<?xml version="1.0" encoding="GB2312"?>`), item(gb(t, name))...),
		"gbk lowercase":           append([]byte(`<?xml version="1.0" encoding="gbk"?>`), item(gb(t, name))...),
		"GB18030":                 append([]byte(`<?xml version="1.0" encoding="GB18030"?>`), item(gb(t, name))...),
		"undeclared GB":           item(gb(t, name)),
		"UTF-8 declared, GB sent": append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`), item(gb(t, name))...),
		"GB2312 declared, UTF-8":  append([]byte(`<?xml version="1.0" encoding="GB2312"?>`), item([]byte(name))...),
		"UTF-8":                   append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`), item([]byte(name))...),
		"unquoted label":          append([]byte(`<?xml version="1.0" encoding=GB2312 ?>`), item(gb(t, name))...),
	}
	for n, body := range cases {
		t.Run(n, func(t *testing.T) {
			m, err := manscdp.Decode(body)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.(*manscdp.CatalogResponse).DeviceList.Items[0].Name; got != name {
				t.Fatalf("name %q", got)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		want error
	}{
		{"empty", nil, manscdp.ErrEmpty},
		{"blank", []byte(" \r\n\x00"), manscdp.ErrEmpty},
		{"too large", bytes.Repeat([]byte(" "), manscdp.MaxBodySize+1), manscdp.ErrTooLarge},
		{"not xml", []byte("hello>"), manscdp.ErrMalformed},
		{"truncated", []byte("<Notify><CmdType>Keepalive</CmdType><SN>1"), manscdp.ErrMalformed},
		{"bad SN", []byte("<Notify><CmdType>Keepalive</CmdType><SN>x1</SN></Notify>"), manscdp.ErrMalformed},
		{"bad time", []byte("<Notify><CmdType>Alarm</CmdType><SN>1</SN><AlarmTime>yesterday</AlarmTime></Notify>"), manscdp.ErrMalformed},
		{"bad float", []byte("<Notify><CmdType>Alarm</CmdType><SN>1</SN><Longitude>east</Longitude></Notify>"), manscdp.ErrMalformed},
		{"too deep", []byte(strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40)), manscdp.ErrMalformed},
		{"bad token", []byte("<Notify><CmdType>Keepalive</CmdType><<</Notify>"), manscdp.ErrMalformed},
		{"unknown cmd", []byte("<Query><CmdType>SnapShot</CmdType><SN>4</SN><DeviceID>1</DeviceID></Query>"), manscdp.ErrUnknownCmdType},
		{"no cmd", []byte("<Query><SN>4</SN></Query>"), manscdp.ErrUnknownCmdType},
		{"empty cmd", []byte("<Query><CmdType/><SN>4</SN></Query>"), manscdp.ErrUnknownCmdType},
		{"wrong root for cmd", []byte("<Query><CmdType>Keepalive</CmdType><SN>4</SN></Query>"), manscdp.ErrUnknownCmdType},
		{"unknown root", []byte("<Request><CmdType>Catalog</CmdType><SN>4</SN></Request>"), manscdp.ErrUnknownRoot},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := manscdp.Decode(c.body)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

// TestDecodeUnknown checks an unmodelled command still yields its header.
func TestDecodeUnknown(t *testing.T) {
	m, err := manscdp.Decode([]byte("<query><CmdType>SnapShot</CmdType><SN> 4 </SN><DeviceID>34020000001320000001</DeviceID><Extra>1</Extra></query>"))
	if !errors.Is(err, manscdp.ErrUnknownCmdType) {
		t.Fatal(err)
	}
	u, ok := m.(*manscdp.Unknown)
	if !ok || u.Root() != manscdp.RootQuery || u.CmdType != "SnapShot" || u.SN != 4 || u.DeviceID != "34020000001320000001" {
		t.Fatalf("%#v", m)
	}
	// An Unknown can be re-encoded for logging/relay.
	b, err := manscdp.Encode(u, manscdp.Options{Charset: manscdp.CharsetUTF8})
	if err != nil || !bytes.Contains(b, []byte("<Query><CmdType>SnapShot</CmdType><SN>4</SN>")) {
		t.Fatalf("%s %v", b, err)
	}
	m, err = manscdp.Decode([]byte("<Request><CmdType>X</CmdType><SN>5</SN></Request>"))
	if !errors.Is(err, manscdp.ErrUnknownRoot) || m.Root() != "Request" || m.Head().SN != 5 {
		t.Fatalf("%#v %v", m, err)
	}
}

func mustTime(t *testing.T, s string) manscdp.Time {
	t.Helper()
	v, err := manscdp.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// allMessages returns one filled value of every message type.
func allMessages(t *testing.T) []manscdp.Message {
	h := func(sn int) manscdp.Header { return manscdp.Header{SN: sn, DeviceID: "34020000001320000001"} }
	tm := mustTime(t, "2026-11-21T10:00:00.250")
	zero := 0
	return []manscdp.Message{
		manscdp.NewKeepalive("34020000001320000001", 1),
		&manscdp.Keepalive{Header: h(2), Status: "OK", Info: &manscdp.KeepaliveInfo{DeviceIDs: []string{"a", "b"}}},
		&manscdp.CatalogQuery{Header: h(3)},
		&manscdp.CatalogResponse{Header: h(4), SumNum: 1, DeviceList: &manscdp.List[manscdp.CatalogItem]{Items: []manscdp.CatalogItem{{
			DeviceID: "34020000001310000001", Name: "大门口摄像机", Status: "ON", EndTime: tm, Longitude: 1.25,
			Info: &manscdp.CatalogInfo{PTZType: "1", BusinessGroupID: "x", RecordSaveDays: 3},
		}}}},
		&manscdp.CatalogResponse{Header: h(5), Result: manscdp.ResultOK},
		&manscdp.CatalogResponse{Header: h(6), DeviceList: &manscdp.List[manscdp.CatalogItem]{}},
		&manscdp.CatalogNotify{Header: h(7), SumNum: 1, DeviceList: &manscdp.List[manscdp.CatalogItem]{Items: []manscdp.CatalogItem{{DeviceID: "1", Event: manscdp.EventDel}}}},
		&manscdp.DeviceInfoQuery{Header: h(8)},
		manscdp.NewDeviceInfoResponse("34020000001180000001", 9, "一楼大厅", "Hik", "NVR", "V4", 16),
		&manscdp.DeviceStatusQuery{Header: h(10)},
		&manscdp.DeviceStatusResponse{
			Header: h(11), Result: "OK", Online: "ONLINE", Status: "OK", Reason: "r", Encode: "ON", Record: "OFF", DeviceTime: tm,
			Alarmstatus: &manscdp.List[manscdp.AlarmStatusItem]{Items: []manscdp.AlarmStatusItem{{DeviceID: "1", DutyStatus: manscdp.DutyAlarm}}},
		},
		&manscdp.RecordInfoQuery{Header: h(12), StartTime: tm, EndTime: tm, FilePath: "f", Address: "a", Secrecy: 1, Type: "all", RecorderID: "r", IndistinctQuery: 1, StreamNumber: &zero},
		&manscdp.RecordInfoResponse{Header: h(13), Name: "n", SumNum: 1, RecordList: &manscdp.List[manscdp.RecordItem]{Items: []manscdp.RecordItem{{
			DeviceID: "1", Name: "n", FilePath: "p", Address: "a", StartTime: tm, EndTime: tm, Secrecy: 0, Type: "time", RecorderID: "r", FileSize: 1 << 40,
		}}}},
		manscdp.NewPTZControl("34020000001310000001", 14, "A50F0100000000B5"),
		&manscdp.DeviceControl{Header: h(15), TeleBoot: manscdp.TeleBootBoot},
		&manscdp.DeviceControl{Header: h(16), RecordCmd: manscdp.RecordCmdStop},
		&manscdp.DeviceControl{Header: h(17), GuardCmd: manscdp.GuardCmdSet},
		&manscdp.DeviceControl{Header: h(18), AlarmCmd: manscdp.AlarmCmdReset, Info: &manscdp.ControlInfo{AlarmMethod: "2", AlarmType: "1"}},
		&manscdp.DeviceControl{Header: h(19), IFameCmd: manscdp.IFameCmdSend},
		&manscdp.DeviceControl{Header: h(20), DragZoomOut: &manscdp.DragZoom{Length: 1, Width: 2, MidPointX: 3, MidPointY: 4, LengthX: 5, LengthY: 6}},
		&manscdp.DeviceControl{Header: h(21), HomePosition: &manscdp.HomePosition{Enabled: 0, ResetTime: 30, PresetIndex: 2}},
		&manscdp.DeviceControlResponse{Header: h(22), Result: "OK"},
		&manscdp.DeviceConfig{Header: h(23), BasicParam: &manscdp.BasicParam{Name: "西门", Expiration: 3600, HeartBeatInterval: 60, HeartBeatCount: 3}},
		&manscdp.DeviceConfigResponse{Header: h(24), Result: "ERROR"},
		&manscdp.PresetQuery{Header: h(25)},
		&manscdp.PresetQueryResponse{Header: h(26), PresetList: &manscdp.List[manscdp.PresetItem]{Items: []manscdp.PresetItem{{PresetID: "1", PresetName: "门"}}}},
		&manscdp.ConfigDownloadQuery{Header: h(27), ConfigType: "BasicParam/VideoParamOpt"},
		&manscdp.ConfigDownloadResponse{Header: h(28), Result: "OK", BasicParam: &manscdp.BasicParam{SIPServerID: "s", SIPServerPort: 5060}, VideoParamOpt: &manscdp.VideoParamOpt{DownloadSpeed: "1/2"}},
		&manscdp.AlarmNotify{
			Header: h(29), AlarmPriority: "1", AlarmMethod: "2", AlarmTime: tm, AlarmDescription: "越界", Longitude: 1, Latitude: 2,
			Info: &manscdp.AlarmInfo{AlarmType: "1", AlarmTypeParam: &manscdp.AlarmTypeParam{EventType: "2"}},
		},
		manscdp.NewAlarmResponse("34020000001340000001", 30),
		&manscdp.AlarmQuery{Header: h(31), StartAlarmPriority: "1", EndAlarmPriority: "4", AlarmMethod: "0", AlarmType: "1", StartAlarmTime: tm, EndAlarmTime: tm},
		&manscdp.MobilePositionQuery{Header: h(32), Interval: 5},
		&manscdp.MobilePositionNotify{Header: h(33), Time: tm, Longitude: 116.4, Latitude: 39.9, Speed: 1, Direction: 2, Altitude: 3},
		&manscdp.MediaStatusNotify{Header: h(34), NotifyType: manscdp.NotifyTypeEndOfFile},
		&manscdp.BroadcastNotify{Header: manscdp.Header{SN: 35}, SourceID: "s", TargetID: "t"},
		&manscdp.BroadcastResponse{Header: h(36), Result: "OK"},
	}
}

// TestRoundTripAll encodes every message type in UTF-8 and GB2312 and
// checks it decodes back to the same type and value.
func TestRoundTripAll(t *testing.T) {
	for _, m := range allMessages(t) {
		for _, cs := range []manscdp.Charset{manscdp.CharsetUTF8, manscdp.CharsetGB2312, ""} {
			b, err := manscdp.Encode(m, manscdp.Options{Charset: cs})
			if err != nil {
				t.Fatalf("%T: %v", m, err)
			}
			got, err := manscdp.Decode(b)
			if err != nil {
				t.Fatalf("%T: %v\n%s", m, err, b)
			}
			if reflect.TypeOf(got) != reflect.TypeOf(m) || got.Root() != m.Root() {
				t.Fatalf("%T decoded as %T", m, got)
			}
			// Encode fills in CmdType; compare with that applied.
			want := reflect.New(reflect.TypeOf(m).Elem())
			want.Elem().Set(reflect.ValueOf(m).Elem())
			want.Interface().(manscdp.Message).Head().CmdType = got.Head().CmdType
			if !reflect.DeepEqual(got, want.Interface()) {
				t.Fatalf("%T round trip:\n got %#v\nwant %#v\n%s", m, got, want.Interface(), b)
			}
			if got.Head().CmdType == "" {
				t.Fatalf("%T: no CmdType", m)
			}
		}
	}
}

func TestEncodeGB2312Bytes(t *testing.T) {
	m := manscdp.NewDeviceInfoResponse("34020000001180000001", 9, "大门口摄像机", "海康威视", "NVR", "V4", 16)
	b, err := manscdp.Encode(m, manscdp.Options{Charset: manscdp.CharsetGB2312})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, gb(t, "<DeviceName>大门口摄像机</DeviceName>")) || !bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="GB2312"?>`)) {
		t.Fatalf("%q", b)
	}
	if m.CmdType != "" {
		t.Fatal("Encode modified its argument")
	}
	// Characters outside GBK become '?' rather than failing the message.
	m.DeviceName = "cam😀1"
	b, err = manscdp.Encode(m, manscdp.Options{Charset: manscdp.CharsetGB2312})
	if err != nil || !bytes.Contains(b, []byte("<DeviceName>cam?1</DeviceName>")) {
		t.Fatalf("%q %v", b, err)
	}
	b, err = manscdp.Encode(m, manscdp.Options{Charset: manscdp.CharsetUTF8})
	if err != nil || !bytes.Contains(b, []byte("cam😀1")) {
		t.Fatalf("%q %v", b, err)
	}
}

func TestEncodeErrors(t *testing.T) {
	var nilKA *manscdp.Keepalive
	cases := map[string]manscdp.Message{
		"nil":              nil,
		"typed nil":        nilKA,
		"no control":       &manscdp.DeviceControl{},
		"two controls":     &manscdp.DeviceControl{PTZCmd: "A50F0100000000B5", TeleBoot: "Boot"},
		"unknown no root":  &manscdp.Unknown{},
		"unknown bad root": &manscdp.Unknown{RootElement: "a b"},
	}
	for name, m := range cases {
		if _, err := manscdp.Encode(m, manscdp.Options{}); !errors.Is(err, manscdp.ErrInvalidMessage) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestEncodeNumAttr(t *testing.T) {
	pages := manscdp.NewCatalogPages("34020000001180000001", 3, []manscdp.CatalogItem{{DeviceID: "1"}, {DeviceID: "2"}, {DeviceID: "3"}}, 2)
	b, err := manscdp.Encode(pages[0], manscdp.Options{Charset: manscdp.CharsetUTF8})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"<CmdType>Catalog</CmdType>", "<SN>3</SN>", "<SumNum>3</SumNum>", `<DeviceList Num="2">`} {
		if !bytes.Contains(b, []byte(s)) {
			t.Fatalf("missing %s in %s", s, b)
		}
	}
	b, _ = manscdp.Encode(&manscdp.RecordInfoResponse{Header: manscdp.Header{SN: 1, DeviceID: "1"}, RecordList: &manscdp.List[manscdp.RecordItem]{}}, manscdp.Options{})
	if !bytes.Contains(b, []byte(`<SumNum>0</SumNum><RecordList Num="0"></RecordList>`)) {
		t.Fatalf("%s", b)
	}
}

func TestListLenNil(t *testing.T) {
	var l *manscdp.List[manscdp.RecordItem]
	if l.Len() != 0 {
		t.Fatal("nil list not empty")
	}
}
