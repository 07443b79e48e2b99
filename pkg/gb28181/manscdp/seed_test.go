package manscdp_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// readSeeds returns the realistic device bodies under testdata.
func readSeeds(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no seed files")
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func decodeFile(t *testing.T, name string) manscdp.Message {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := manscdp.Decode(b)
	if err != nil {
		t.Fatalf("Decode(%s): %v", name, err)
	}
	return m
}

// TestSeedsRoundTrip decodes every seed, re-encodes it in every charset and
// checks the result decodes to the same value.
func TestSeedsRoundTrip(t *testing.T) {
	for name, body := range readSeeds(t) {
		t.Run(name, func(t *testing.T) {
			m, err := manscdp.Decode(body)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if _, ok := m.(*manscdp.Unknown); ok {
				t.Fatalf("seed decoded as Unknown")
			}
			for _, cs := range []manscdp.Charset{manscdp.CharsetUTF8, manscdp.CharsetGB2312, manscdp.CharsetGBK, manscdp.CharsetGB18030} {
				enc, err := manscdp.Encode(m, manscdp.Options{Charset: cs})
				if err != nil {
					t.Fatalf("Encode %s: %v", cs, err)
				}
				if !bytes.HasPrefix(enc, []byte(`<?xml version="1.0" encoding="`+string(cs)+`"?>`)) {
					t.Fatalf("prolog: %q", enc[:50])
				}
				// GB output of Chinese text is never valid UTF-8: proves the charset was applied.
				if nonASCII := bytes.ContainsFunc(enc, func(r rune) bool { return r > 0x7f }); cs != manscdp.CharsetUTF8 && nonASCII && utf8.Valid(enc) {
					t.Fatalf("%s output is UTF-8", cs)
				}
				m2, err := manscdp.Decode(enc)
				if err != nil {
					t.Fatalf("Decode(Encode %s): %v\n%s", cs, err, enc)
				}
				if !reflect.DeepEqual(m, m2) {
					t.Fatalf("%s round trip differs:\n%#v\n%#v", cs, m, m2)
				}
			}
		})
	}
}

func TestSeedHikvisionCatalog(t *testing.T) {
	m := decodeFile(t, "catalog_hikvision_nvr.xml")
	r, ok := m.(*manscdp.CatalogResponse)
	if !ok {
		t.Fatalf("got %T", m)
	}
	if r.SN != 17 || r.DeviceID != "34020000001180000001" || r.SumNum != 3 || r.DeviceList.Len() != 2 {
		t.Fatalf("header/list: %+v", r)
	}
	it := r.DeviceList.Items[0]
	if it.Name != "大门口摄像机" || it.Address != "大门口" || it.Port != 8000 || it.Longitude != 120.123456 {
		t.Fatalf("item: %+v", it)
	}
	if it.Info == nil || it.Info.PTZType != "1" || it.Info.Resolution != "6/4" || it.Info.DownloadSpeed != "1/2/4" {
		t.Fatalf("info: %+v", it.Info)
	}
	if r.DeviceList.Items[1].Name != "一楼大厅" || r.DeviceList.Items[1].Online() {
		t.Fatalf("item 2: %+v", r.DeviceList.Items[1])
	}
}

func TestSeedDahuaSloppy(t *testing.T) {
	r := decodeFile(t, "catalog_dahua_sloppy.xml").(*manscdp.CatalogResponse)
	if r.SN != 17 || r.SumNum != 3 || r.DeviceList.Len() != 1 {
		t.Fatalf("%+v", r)
	}
	it := r.DeviceList.Items[0]
	if it.DeviceID != "34020000001310000003" || it.Name != "停车场入口" || !it.Online() {
		t.Fatalf("%+v", it)
	}
	if it.Info == nil || it.Info.PTZType != "3" || it.EffectiveBusinessGroupID() != "34020000002150000001" {
		t.Fatalf("info %+v", it.Info)
	}
}

func TestSeed2022Catalog(t *testing.T) {
	r := decodeFile(t, "catalog_2022_platform.xml").(*manscdp.CatalogResponse)
	if r.DeviceList.Len() != 5 {
		t.Fatalf("items %d", r.DeviceList.Len())
	}
	cam := r.DeviceList.Items[3]
	if got := cam.ParentIDs(); !reflect.DeepEqual(got, []string{"34020000002160000001", "34020000002150000001"}) {
		t.Fatalf("ParentIDs %v", got)
	}
	if cam.BusinessGroupID != "34020000002150000001" || cam.SecurityLevelCode != "1" {
		t.Fatalf("%+v", cam)
	}
	if cam.Info.PTZType != "1/2" || cam.Info.RecordSaveDays != 30 || cam.Info.HorizontalFieldAngle != 90.5 || cam.Info.StreamNumberList != "0/1/2" {
		t.Fatalf("%+v", cam.Info)
	}
}

func TestSeedOthers(t *testing.T) {
	ka := decodeFile(t, "keepalive_faulty.xml").(*manscdp.Keepalive)
	if ka.Status != "OK" || ka.Info == nil || len(ka.Info.DeviceIDs) != 2 {
		t.Fatalf("%+v", ka)
	}
	ka = decodeFile(t, "keepalive_hikvision.xml").(*manscdp.Keepalive)
	if ka.SN != 43 || ka.DeviceID != "34020000001320000001" || ka.Info == nil || len(ka.Info.DeviceIDs) != 0 {
		t.Fatalf("%+v", ka)
	}
	ds := decodeFile(t, "devicestatus_response.xml").(*manscdp.DeviceStatusResponse)
	if ds.Online != "ONLINE" || ds.DeviceTime.String() != "2026-11-21T10:00:00" || ds.Alarmstatus.Len() != 1 ||
		ds.Alarmstatus.Items[0].DutyStatus != manscdp.DutyOffDuty {
		t.Fatalf("%+v", ds)
	}
	rq := decodeFile(t, "recordinfo_query.xml").(*manscdp.RecordInfoQuery)
	if rq.EndTime.String() != "2026-11-21T23:59:59" || rq.Type != manscdp.RecordTypeAll {
		t.Fatalf("%+v", rq)
	}
	rr := decodeFile(t, "recordinfo_response.xml").(*manscdp.RecordInfoResponse)
	if rr.Name != "大门口摄像机" || rr.RecordList.Len() != 2 || rr.RecordList.Items[0].FileSize != 536870912 {
		t.Fatalf("%+v", rr)
	}
	al := decodeFile(t, "alarm_notify_wvp.xml").(*manscdp.AlarmNotify)
	if al.AlarmDescription != "越界侦测" || al.Info == nil || al.Info.AlarmType != "2" ||
		al.Info.AlarmTypeParam == nil || al.Info.AlarmTypeParam.EventType != "1" {
		t.Fatalf("%+v", al)
	}
	dc := decodeFile(t, "devicecontrol_ptz.xml").(*manscdp.DeviceControl)
	if dc.Command() != "PTZCmd" || dc.Info.ControlPriority != 5 {
		t.Fatalf("%+v", dc)
	}
	dz := decodeFile(t, "devicecontrol_dragzoom.xml").(*manscdp.DeviceControl)
	if dz.Command() != "DragZoomIn" || *dz.DragZoomIn != (manscdp.DragZoom{Length: 1080, Width: 1920, MidPointX: 960, MidPointY: 540, LengthX: 200, LengthY: 100}) {
		t.Fatalf("%+v", dz)
	}
	cd := decodeFile(t, "configdownload_response.xml").(*manscdp.ConfigDownloadResponse)
	if cd.BasicParam.SIPServerPort != 5060 || cd.BasicParam.Name != "西门摄像机" || cd.VideoParamOpt.Resolution != "6/4" {
		t.Fatalf("%+v", cd)
	}
	bc := decodeFile(t, "broadcast_notify.xml").(*manscdp.BroadcastNotify)
	if bc.SourceID != "34020000002000000001" || bc.TargetID != "34020000001370000001" {
		t.Fatalf("%+v", bc)
	}
	mp := decodeFile(t, "mobileposition_notify.xml").(*manscdp.MobilePositionNotify)
	if mp.Speed != 36.5 || mp.Latitude != 39.916527 {
		t.Fatalf("%+v", mp)
	}
	ms := decodeFile(t, "mediastatus_notify.xml").(*manscdp.MediaStatusNotify)
	if ms.NotifyType != manscdp.NotifyTypeEndOfFile {
		t.Fatalf("%+v", ms)
	}
	np := decodeFile(t, "catalog_no_prolog_gb.xml").(*manscdp.CatalogResponse)
	if np.DeviceList.Items[0].Name != "后门通道" {
		t.Fatalf("%+v", np.DeviceList.Items[0])
	}
	if _, err := manscdp.Decode([]byte("<Notify><CmdType>Nope</CmdType></Notify>")); !errors.Is(err, manscdp.ErrUnknownCmdType) {
		t.Fatal(err)
	}
}
