package manscdp_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

func TestPaginate(t *testing.T) {
	items := []int{1, 2, 3, 4, 5}
	cases := []struct {
		per  int
		in   []int
		want [][]int
	}{
		{2, items, [][]int{{1, 2}, {3, 4}, {5}}},
		{5, items, [][]int{{1, 2, 3, 4, 5}}},
		{9, items, [][]int{{1, 2, 3, 4, 5}}},
		{0, items, [][]int{{1, 2, 3, 4, 5}}},
		{-1, items, [][]int{{1, 2, 3, 4, 5}}},
		{1, items, [][]int{{1}, {2}, {3}, {4}, {5}}},
		{3, nil, [][]int{nil}},
	}
	for _, c := range cases {
		if got := manscdp.Paginate(c.in, c.per); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Paginate(%v, %d) = %v", c.in, c.per, got)
		}
	}
	// A page must not alias the next one on append.
	pages := manscdp.Paginate([]int{1, 2, 3}, 2)
	_ = append(pages[0], 9)
	if pages[1][0] != 3 {
		t.Fatal("pages alias")
	}
}

func TestCatalogAndRecordPages(t *testing.T) {
	items := make([]manscdp.CatalogItem, 7)
	for i := range items {
		items[i].DeviceID = string(rune('a' + i))
	}
	pages := manscdp.NewCatalogPages("dev", 9, items, 3)
	if len(pages) != 3 || pages[2].DeviceList.Len() != 1 {
		t.Fatalf("%d pages", len(pages))
	}
	for _, p := range pages {
		if p.SumNum != 7 || p.SN != 9 || p.DeviceID != "dev" {
			t.Fatalf("%+v", p)
		}
	}
	notes := manscdp.NewCatalogNotifyPages("dev", 10, items, 4)
	if len(notes) != 2 || notes[1].SumNum != 7 || notes[1].DeviceList.Len() != 3 {
		t.Fatalf("%+v", notes)
	}
	empty := manscdp.NewCatalogPages("dev", 1, nil, 3)
	if len(empty) != 1 || empty[0].SumNum != 0 || empty[0].DeviceList == nil {
		t.Fatal("empty catalog must give one empty page")
	}
	recs := manscdp.NewRecordInfoPages("ch", "name", 2, make([]manscdp.RecordItem, 5), 2)
	if len(recs) != 3 || recs[0].SumNum != 5 || recs[0].Name != "name" || recs[2].RecordList.Len() != 1 {
		t.Fatalf("%+v", recs)
	}
}

func TestNewResult(t *testing.T) {
	cases := map[string]reflect.Type{
		manscdp.CmdDeviceControl:  reflect.TypeOf(&manscdp.DeviceControlResponse{}),
		manscdp.CmdDeviceConfig:   reflect.TypeOf(&manscdp.DeviceConfigResponse{}),
		"alarm":                   reflect.TypeOf(&manscdp.AlarmResponse{}),
		manscdp.CmdBroadcast:      reflect.TypeOf(&manscdp.BroadcastResponse{}),
		manscdp.CmdCatalog:        reflect.TypeOf(&manscdp.CatalogResponse{}),
		manscdp.CmdDeviceInfo:     reflect.TypeOf(&manscdp.DeviceInfoResponse{}),
		manscdp.CmdDeviceStatus:   reflect.TypeOf(&manscdp.DeviceStatusResponse{}),
		manscdp.CmdConfigDownload: reflect.TypeOf(&manscdp.ConfigDownloadResponse{}),
	}
	for cmd, typ := range cases {
		for _, ok := range []bool{true, false} {
			m, err := manscdp.NewResult(cmd, "dev", 7, ok)
			if err != nil {
				t.Fatalf("%s: %v", cmd, err)
			}
			if reflect.TypeOf(m) != typ || m.Head().SN != 7 || m.Head().DeviceID != "dev" || m.Root() != manscdp.RootResponse {
				t.Fatalf("%s: %#v", cmd, m)
			}
			want := manscdp.ResultOK
			if !ok {
				want = manscdp.ResultError
			}
			if got := reflect.ValueOf(m).Elem().FieldByName("Result").String(); got != want {
				t.Fatalf("%s: Result %q", cmd, got)
			}
			b, err := manscdp.Encode(m, manscdp.Options{})
			if err != nil {
				t.Fatal(err)
			}
			back, err := manscdp.Decode(b)
			if err != nil || reflect.TypeOf(back) != typ {
				t.Fatalf("%s: %v", cmd, err)
			}
		}
	}
	for _, cmd := range []string{manscdp.CmdKeepalive, manscdp.CmdRecordInfo, "nope"} {
		if _, err := manscdp.NewResult(cmd, "d", 1, true); !errors.Is(err, manscdp.ErrUnknownCmdType) {
			t.Errorf("%s: %v", cmd, err)
		}
	}
}

func TestReplyHeader(t *testing.T) {
	req := &manscdp.DeviceInfoQuery{Header: manscdp.Header{CmdType: "DeviceInfo", SN: 12, DeviceID: "d"}}
	if got := manscdp.ReplyHeader(req); got != (manscdp.Header{SN: 12, DeviceID: "d"}) {
		t.Fatalf("%+v", got)
	}
}

func TestDeviceControlCommand(t *testing.T) {
	cases := []struct {
		c    manscdp.DeviceControl
		want string
		ok   bool
	}{
		{manscdp.DeviceControl{}, "", false},
		{manscdp.DeviceControl{PTZCmd: "x"}, "PTZCmd", true},
		{manscdp.DeviceControl{TeleBoot: "Boot"}, "TeleBoot", true},
		{manscdp.DeviceControl{RecordCmd: "Record"}, "RecordCmd", true},
		{manscdp.DeviceControl{GuardCmd: "SetGuard"}, "GuardCmd", true},
		{manscdp.DeviceControl{AlarmCmd: "ResetAlarm"}, "AlarmCmd", true},
		{manscdp.DeviceControl{IFameCmd: "Send"}, "IFameCmd", true},
		{manscdp.DeviceControl{DragZoomIn: &manscdp.DragZoom{}}, "DragZoomIn", true},
		{manscdp.DeviceControl{DragZoomOut: &manscdp.DragZoom{}}, "DragZoomOut", true},
		{manscdp.DeviceControl{HomePosition: &manscdp.HomePosition{}}, "HomePosition", true},
		{manscdp.DeviceControl{PTZCmd: "x", GuardCmd: "y"}, "PTZCmd", false},
	}
	for _, c := range cases {
		if got := c.c.Command(); got != c.want {
			t.Errorf("Command = %q want %q", got, c.want)
		}
		if err := c.c.Validate(); (err == nil) != c.ok || (err != nil && !errors.Is(err, manscdp.ErrInvalidMessage)) {
			t.Errorf("%s: Validate = %v", c.want, err)
		}
	}
	p := manscdp.NewPTZControl("ch", 3, "A50F0100000000B5")
	if p.Info == nil || p.Info.ControlPriority != 5 || p.SN != 3 || p.Root() != manscdp.RootControl {
		t.Fatalf("%+v", p)
	}
}

func TestCmdTypeOf(t *testing.T) {
	tests := []struct {
		msg  manscdp.Message
		want string
	}{
		{&manscdp.CatalogQuery{}, manscdp.CmdCatalog},
		{&manscdp.RecordInfoQuery{}, manscdp.CmdRecordInfo},
		{manscdp.NewPTZControl("34020000001310000001", 1, "A50F0100000000B5"), manscdp.CmdDeviceControl},
		{&manscdp.Unknown{Header: manscdp.Header{CmdType: "Teleport"}}, "Teleport"},
	}
	for _, tt := range tests {
		// The type decides, not a stale header.
		tt.msg.Head().CmdType = "Stale"
		if _, unknown := tt.msg.(*manscdp.Unknown); unknown {
			tt.msg.Head().CmdType = tt.want
		}
		if got := manscdp.CmdTypeOf(tt.msg); got != tt.want {
			t.Errorf("%T: %q, want %q", tt.msg, got, tt.want)
		}
	}
}
