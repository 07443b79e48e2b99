package gbsim

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ptz"
)

func TestRegisterKeepaliveCatalogUnregister(t *testing.T) {
	for _, tc := range []struct {
		network string
		noQop   bool
	}{{"udp", false}, {"tcp", true}} {
		t.Run(tc.network, func(t *testing.T) {
			p := newPlatform(t, tc.network)
			p.noQop.Store(tc.noQop)
			_, stop := startSim(t, p, func(c *Config) { c.Keepalive = 300 * time.Millisecond })
			ev := p.waitReg(t, false)
			if ev.deviceID != "34020000001320000001" || ev.expires != 60 {
				t.Fatalf("register: %+v", ev)
			}
			if tc.noQop {
				if _, has := ev.auth["qop"]; has || ev.auth["nc"] != "" || ev.auth["cnonce"] != "" {
					t.Fatalf("RFC 2069 challenge answered with qop fields: %v", ev.auth)
				}
			} else if ev.auth["qop"] != "auth" || ev.auth["nc"] != "00000001" || ev.auth["cnonce"] == "" {
				t.Fatalf("qop=auth answer: %v", ev.auth)
			}
			if want := "sip:" + testServerID + "@" + testRealm; ev.auth["uri"] != want {
				t.Fatalf("digest uri %q, want %q", ev.auth["uri"], want)
			}
			ka := waitMsg[*manscdp.Keepalive](t, p.msgs, nil)
			if ka.DeviceID != ev.deviceID || ka.Status != "OK" {
				t.Fatalf("keepalive %+v", ka)
			}

			p.query(t, ev.deviceID, &manscdp.CatalogQuery{Header: manscdp.Header{SN: 17, DeviceID: ev.deviceID}})
			agg := &manscdp.Aggregator{}
			var res *manscdp.Result
			for res == nil {
				page := waitMsg[*manscdp.CatalogResponse](t, p.msgs, nil)
				if page.SN != 17 || page.SumNum != 5 {
					t.Fatalf("catalog page SN %d SumNum %d", page.SN, page.SumNum)
				}
				if tc.network == "udp" && page.DeviceList.Len() > 2 {
					t.Fatalf("UDP page with %d items", page.DeviceList.Len())
				}
				r, done, err := agg.Add(page, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if done {
					res = r
				}
			}
			if len(res.Catalog) != 5 || res.Partial {
				t.Fatalf("catalog: %d items partial=%v", len(res.Catalog), res.Partial)
			}
			// Pages over UDP may arrive in any order: find the first camera.
			i := slices.IndexFunc(res.Catalog, func(it manscdp.CatalogItem) bool { return it.DeviceID == "34020000001310000001" })
			if i < 0 {
				t.Fatalf("catalog without 34020000001310000001: %+v", res.Catalog)
			}
			it := res.Catalog[i]
			if !strings.Contains(it.Name, "大门口") || it.Status != "ON" ||
				it.ParentID != ev.deviceID || it.Info == nil || it.Info.PTZType != "1" || it.Longitude == 0 || it.CivilCode != "340200" {
				t.Fatalf("catalog item %+v info %+v", it, it.Info)
			}
			if tc.network == "udp" && res.Packets != 3 {
				t.Fatalf("%d packets, want 3", res.Packets)
			}
			stop()
			if ev := p.waitReg(t, true); ev.deviceID != "34020000001320000001" {
				t.Fatalf("unregister %+v", ev)
			}
		})
	}
}

func TestWrongPasswordIsRejected(t *testing.T) {
	p := newPlatform(t, "udp")
	s, _ := startSim(t, p, func(c *Config) { c.Faults.WrongPassword = 1 })
	testsupport.Eventually(t, eventTimeout, "a failed registration", func() bool { return s.Stats().RegisterFailures > 0 })
	if st := s.Stats(); st.Registered != 0 {
		t.Fatalf("stats %+v", st)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.registers) == 0 || p.registers[0].ok {
		t.Fatalf("platform saw %+v", p.registers)
	}
}

func TestKeepalive404Reregisters(t *testing.T) {
	p := newPlatform(t, "udp")
	s, _ := startSim(t, p, func(c *Config) { c.Keepalive = 200 * time.Millisecond })
	p.waitReg(t, false)
	p.forget.Store(true)
	p.waitReg(t, false) // the device noticed the 404 and registered again
	testsupport.Eventually(t, eventTimeout, "a re-registration counted", func() bool { return s.Stats().Reregistrations > 0 })
}

func TestDeviceQueries(t *testing.T) {
	p := newPlatform(t, "udp")
	startSim(t, p, nil)
	dev := p.waitReg(t, false).deviceID
	ch := "34020000001310000002"

	p.query(t, dev, &manscdp.DeviceInfoQuery{Header: manscdp.Header{SN: 1, DeviceID: dev}})
	info := waitMsg[*manscdp.DeviceInfoResponse](t, p.msgs, nil)
	if info.Channel != 5 || info.Result != "OK" || info.SN != 1 {
		t.Fatalf("DeviceInfo %+v", info)
	}

	p.query(t, dev, &manscdp.DeviceStatusQuery{Header: manscdp.Header{SN: 2, DeviceID: dev}})
	st := waitMsg[*manscdp.DeviceStatusResponse](t, p.msgs, nil)
	if st.Online != "ONLINE" || st.Alarmstatus.Len() != 5 {
		t.Fatalf("DeviceStatus %+v", st)
	}

	now := time.Now()
	p.query(t, ch, &manscdp.RecordInfoQuery{
		Header:    manscdp.Header{SN: 3, DeviceID: ch},
		StartTime: manscdp.NewTime(now.Add(-6 * time.Hour)), EndTime: manscdp.NewTime(now), Type: "all",
	})
	agg := &manscdp.Aggregator{}
	var res *manscdp.Result
	for res == nil {
		page := waitMsg[*manscdp.RecordInfoResponse](t, p.msgs, nil)
		if r, done, err := agg.Add(page, time.Now()); err != nil {
			t.Fatal(err)
		} else if done {
			res = r
		}
	}
	if n := len(res.Records); n < 3 || n > 7 {
		t.Fatalf("%d records in 6 hours", n)
	}

	p.query(t, ch, &manscdp.PresetQuery{Header: manscdp.Header{SN: 4, DeviceID: ch}})
	pr := waitMsg[*manscdp.PresetQueryResponse](t, p.msgs, nil)
	if pr.PresetList.Len() != 3 {
		t.Fatalf("presets %+v", pr.PresetList)
	}
	// Set preset 7, then the list has 4. The device acknowledges the
	// control before it applies it (as cameras do), so a query sent right
	// after may still see 3: ask again until it applied, within eventTimeout.
	p.query(t, ch, manscdp.NewPTZControl(ch, 5, "A50F0181000700"+ptzSum("A50F01810007")))
	deadline := time.Now().Add(eventTimeout)
	for sn := 6; ; sn++ {
		p.query(t, ch, &manscdp.PresetQuery{Header: manscdp.Header{SN: sn, DeviceID: ch}})
		pr := waitMsg[*manscdp.PresetQueryResponse](t, p.msgs, nil)
		if pr.PresetList.Len() == 4 {
			break
		}
		if pr.PresetList.Len() != 3 || time.Now().After(deadline) {
			t.Fatalf("presets after set: %+v", pr.PresetList)
		}
	}

	p.query(t, dev, &manscdp.DeviceControl{Header: manscdp.Header{SN: 7, DeviceID: dev}, RecordCmd: manscdp.RecordCmdRecord})
	if r := waitMsg[*manscdp.DeviceControlResponse](t, p.msgs, nil); r.Result != "OK" || r.SN != 7 {
		t.Fatalf("RecordCmd %+v", r)
	}
}

// ptzSum appends the A.3 checksum byte to the first 7 bytes given in hex.
func ptzSum(h string) string {
	sum := 0
	for i := 0; i < len(h); i += 2 {
		var b int
		for _, c := range h[i : i+2] {
			b <<= 4
			switch {
			case c >= '0' && c <= '9':
				b |= int(c - '0')
			default:
				b |= int(c-'A') + 10
			}
		}
		sum += b
	}
	const hexd = "0123456789ABCDEF"
	return string([]byte{hexd[sum>>4&0xF], hexd[sum&0xF]})
}

func mustDescribe(t *testing.T, s string) ptz.Action {
	t.Helper()
	d, err := ptz.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return d.Describe()
}
