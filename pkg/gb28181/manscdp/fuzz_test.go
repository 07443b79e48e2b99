package manscdp_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// FuzzDecode checks Decode never panics and that a decoded message, encoded
// again, decodes to the same value (and encodes to the same bytes).
func FuzzDecode(f *testing.F) {
	for _, b := range readSeeds(f) {
		f.Add(b)
	}
	f.Add([]byte(keepaliveBody))
	f.Add([]byte("<Query><CmdType>SnapShot</CmdType><SN>4</SN></Query>"))
	f.Add([]byte("<notify><cmdtype>alarm</cmdtype><sn>1</sn><info><alarmtype>2</alarmtype></INFO></notify>\x00\x00"))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := manscdp.Decode(body)
		if err != nil {
			unknown := errors.Is(err, manscdp.ErrUnknownCmdType) || errors.Is(err, manscdp.ErrUnknownRoot)
			if (m != nil) != unknown {
				t.Fatalf("message %T with error %v", m, err)
			}
			if m == nil {
				return
			}
			if _, ok := m.(*manscdp.Unknown); !ok {
				t.Fatalf("unknown error with %T", m)
			}
		}
		b1, err := manscdp.Encode(m, manscdp.Options{Charset: manscdp.CharsetUTF8})
		if errors.Is(err, manscdp.ErrInvalidMessage) {
			return // e.g. a DeviceControl without exactly one command, or an odd root
		}
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		m2, err2 := manscdp.Decode(b1)
		if m2 == nil {
			t.Fatalf("re-decode: %v\n%q\n%s", err2, body, b1)
		}
		b2, err := manscdp.Encode(m2, manscdp.Options{Charset: manscdp.CharsetUTF8})
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("re-encode differs (%v):\n%s\n%s", err, b1, b2)
		}
		if !bytes.Contains(b1, []byte("NaN")) && !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip differs:\n%#v\n%#v\n%s", m, m2, b1)
		}
		// The edition profiles must produce decodable output too.
		for _, v := range []manscdp.Version{manscdp.Version2016, manscdp.Version2022} {
			b, err := manscdp.Encode(m, manscdp.Options{Version: v})
			if err != nil {
				t.Fatalf("Encode %d: %v", v, err)
			}
			if m3, _ := manscdp.Decode(b); reflect.TypeOf(m3) != reflect.TypeOf(m) {
				t.Fatalf("edition %d decodes as %T\n%s", v, m3, b)
			}
		}
	})
}

// FuzzAggregator drives an Aggregator with packets built from the input and
// checks its bounds and that every answer ends exactly once.
func FuzzAggregator(f *testing.F) {
	f.Add([]byte{0, 1, 3, 2, 'a', 'b', 0, 1, 3, 1, 'c'})
	f.Add([]byte{0, 1, 0, 0, 1, 2, 2, 1, 'x', 255, 10})
	f.Add([]byte{1, 1, 2, 3, 'a', 'a', 'a', 255, 1, 1, 1, 2, 1, 'b'})
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxItems, maxPending = 5, 3
		a := &manscdp.Aggregator{IdleTimeout: 3 * time.Second, MaxItems: maxItems, MaxPending: maxPending}
		now := t0
		check := func(r *manscdp.Result) {
			if r.Len() > maxItems {
				t.Fatalf("%d items", r.Len())
			}
			seen := map[string]bool{}
			for _, it := range r.Catalog {
				if it.DeviceID != "" && seen[it.DeviceID] {
					t.Fatalf("duplicate %q", it.DeviceID)
				}
				seen[it.DeviceID] = true
			}
			for _, it := range r.Records {
				if seen[it.Key()] {
					t.Fatalf("duplicate record %q", it.Key())
				}
				seen[it.Key()] = true
			}
			if r.Partial && r.Len() >= r.SumNum {
				t.Fatalf("partial with %d of %d", r.Len(), r.SumNum)
			}
		}
		for len(data) >= 4 {
			op, dev, sn, sum := data[0], data[1]%3, int(data[2]%4), int(data[3]%8)
			data = data[4:]
			if op == 255 {
				now = now.Add(time.Duration(dev) * 2 * time.Second)
				for _, r := range a.Expire(now) {
					check(&r)
				}
				continue
			}
			n := 0
			if len(data) > 0 {
				n = int(data[0] % 4)
				data = data[1:]
			}
			n = min(n, len(data))
			var msg manscdp.Message
			h := manscdp.Header{SN: sn, DeviceID: string(rune('A' + dev))}
			if op%2 == 0 {
				items := make([]manscdp.CatalogItem, n)
				for i := range items {
					items[i].DeviceID = string(rune('a' + data[i]%6))
				}
				msg = &manscdp.CatalogResponse{Header: h, SumNum: sum, DeviceList: &manscdp.List[manscdp.CatalogItem]{Items: items}}
			} else {
				items := make([]manscdp.RecordItem, n)
				for i := range items {
					items[i].FilePath = string(rune('a' + data[i]%6))
				}
				msg = &manscdp.RecordInfoResponse{Header: h, SumNum: sum, RecordList: &manscdp.List[manscdp.RecordItem]{Items: items}}
			}
			data = data[n:]
			res, done, err := a.Add(msg, now)
			if err != nil && !errors.Is(err, manscdp.ErrTooManyPending) {
				t.Fatal(err)
			}
			if done != (res != nil) {
				t.Fatalf("done=%v res=%v", done, res)
			}
			if res != nil {
				check(res)
			}
			if a.Len() > maxPending {
				t.Fatalf("%d pending", a.Len())
			}
		}
		for _, r := range a.Expire(now.Add(time.Hour)) {
			check(&r)
		}
		if a.Len() != 0 {
			t.Fatalf("%d pending after expiry", a.Len())
		}
	})
}

// FuzzParseTime checks ParseTime never panics and that a parsed time
// formats to a string that parses to the same time.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-21T16:35:01", "2026-11-21T16:35:01.000", "2026-11-21 16:35:01.5", "2026-11-21", "", " ", "x", "0000-01-01T00:00:00", "9999-12-31T23:59:59.999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := manscdp.ParseTimeIn(s, time.UTC)
		if err != nil {
			if !errors.Is(err, manscdp.ErrInvalidTime) {
				t.Fatalf("error %v does not wrap ErrInvalidTime", err)
			}
			return
		}
		back, err := manscdp.ParseTimeIn(tm.String(), time.UTC)
		if err != nil || back != tm {
			t.Fatalf("%q -> %q -> %v (%v)", s, tm.String(), back, err)
		}
	})
}
