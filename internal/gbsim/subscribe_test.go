package gbsim

import (
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

func subscribe(t *testing.T, p *platform, target string, q manscdp.Message, event string, expires int) *sip.Response {
	t.Helper()
	body, err := manscdp.Encode(q, manscdp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p.request(t, sip.SUBSCRIBE, target, body, "Application/MANSCDP+xml",
		sip.NewHeader("Event", event), sip.NewHeader("Expires", strconv.Itoa(expires)),
		&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: testServerID, Host: "127.0.0.1"}})
}

func TestSubscriptions(t *testing.T) {
	p := newPlatform(t, "udp")
	startSim(t, p, func(c *Config) {
		c.CatalogChurn = 200 * time.Millisecond
		c.Faults.AlarmInterval = 300 * time.Millisecond
	})
	dev := p.waitReg(t, false).deviceID

	res := subscribe(t, p, dev, &manscdp.CatalogQuery{Header: manscdp.Header{SN: 9, DeviceID: dev}}, "Catalog;id=1", 600)
	if res.StatusCode != 200 || res.GetHeader("Expires").Value() != "600" {
		t.Fatalf("SUBSCRIBE Catalog: %d", res.StatusCode)
	}
	if r, _ := manscdp.Decode(res.Body()); r == nil || r.(*manscdp.CatalogResponse).Result != "OK" {
		t.Fatalf("SUBSCRIBE answer body %q", res.Body())
	}
	first := waitMsg[*manscdp.CatalogNotify](t, p.notifies, nil)
	if first.SumNum != 5 || first.DeviceList.Items[0].Event != manscdp.EventOn {
		t.Fatalf("initial NOTIFY %+v", first)
	}
	off := waitMsg(t, p.notifies, func(n *manscdp.CatalogNotify) bool {
		return n.DeviceList.Len() == 1 && n.DeviceList.Items[0].Event == manscdp.EventOff
	})
	on := waitMsg(t, p.notifies, func(n *manscdp.CatalogNotify) bool {
		return n.DeviceList.Len() == 1 && n.DeviceList.Items[0].Event == manscdp.EventOn
	})
	if off.DeviceList.Items[0].DeviceID != on.DeviceList.Items[0].DeviceID {
		t.Fatalf("OFF %s then ON %s", off.DeviceList.Items[0].DeviceID, on.DeviceList.Items[0].DeviceID)
	}

	// Alarms go in MESSAGEs without an alarm subscription, in NOTIFYs with one.
	if a := waitMsg[*manscdp.AlarmNotify](t, p.msgs, nil); a.AlarmPriority != "1" || a.AlarmTime.IsZero() {
		t.Fatalf("alarm %+v", a)
	}
	if res := subscribe(t, p, dev, &manscdp.AlarmQuery{Header: manscdp.Header{SN: 10, DeviceID: dev}}, "presence", 600); res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE Alarm: %d", res.StatusCode)
	}
	waitMsg[*manscdp.AlarmNotify](t, p.notifies, nil)

	if res := subscribe(t, p, dev, &manscdp.MobilePositionQuery{Header: manscdp.Header{SN: 11, DeviceID: dev}, Interval: 1}, "presence", 600); res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE MobilePosition: %d", res.StatusCode)
	}
	pos := waitMsg[*manscdp.MobilePositionNotify](t, p.notifies, nil)
	if pos.Longitude < 118 || pos.Latitude < 31 {
		t.Fatalf("position %+v", pos)
	}

	if res := subscribe(t, p, dev, &manscdp.DeviceInfoQuery{Header: manscdp.Header{SN: 12, DeviceID: dev}}, "presence", 600); res.StatusCode != 489 {
		t.Fatalf("SUBSCRIBE DeviceInfo: %d, want 489", res.StatusCode)
	}
}

func TestTeleBootRegistersAgain(t *testing.T) {
	p := newPlatform(t, "tcp")
	startSim(t, p, nil)
	dev := p.waitReg(t, false).deviceID
	p.query(t, dev, &manscdp.DeviceControl{Header: manscdp.Header{SN: 3, DeviceID: dev}, TeleBoot: manscdp.TeleBootBoot})
	if r := waitMsg[*manscdp.DeviceControlResponse](t, p.msgs, nil); r.Result != "OK" {
		t.Fatalf("TeleBoot answer %+v", r)
	}
	p.waitReg(t, true)  // unregisters on the way down
	p.waitReg(t, false) // and registers again after the reboot
}

func TestPTZMovesAndPresets(t *testing.T) {
	clk := newVirtualClock()
	s := &Sim{cfg: DefaultConfig(), clk: clk}
	d := &device{sim: s, id: "34020000001320000001"}
	c := newChannel(d, 0, "34020000001310000001")
	// Right at pan speed 255 (60°/s) for 1.5 s.
	c.applyPTZ(mustDescribe(t, "A50F0101FF0000B5"))
	clk.Advance(1500 * time.Millisecond)
	c.applyPTZ(mustDescribe(t, "A50F0100000000B5")) // stop
	if pan, _, _ := c.position(); pan < 89.9 || pan > 90.1 {
		t.Fatalf("pan %.2f after 1.5 s right at full speed, want 90", pan)
	}
	c.applyPTZ(mustDescribe(t, "A50F0181000900"+ptzSum("A50F01810009"))) // set preset 9 here
	c.applyPTZ(mustDescribe(t, "A50F01820001003A"))                      // call preset 1 (pan 90, zoom 1)
	c.applyPTZ(mustDescribe(t, "A50F0110000010D5"))                      // zoom in, speed 1
	clk.Advance(3 * time.Second)
	if _, _, zoom := c.position(); zoom < 1.9 || zoom > 2.1 {
		t.Fatalf("zoom %.2f after 3 s at speed 1, want 2", zoom)
	}
	if got := len(c.presetList()); got != 4 {
		t.Fatalf("%d presets, want 4", got)
	}
	if msg := c.applyPTZ(mustDescribe(t, "A50F0182002A0061")); msg != "preset 42 not set" {
		t.Fatalf("call of unknown preset: %q", msg)
	}
}
