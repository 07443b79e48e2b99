package manscdp_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func catPacket(dev string, sn, sum int, ids ...string) *manscdp.CatalogResponse {
	items := make([]manscdp.CatalogItem, len(ids))
	for i, id := range ids {
		items[i] = manscdp.CatalogItem{DeviceID: id, Name: "n" + id}
	}
	return &manscdp.CatalogResponse{
		Header: manscdp.Header{CmdType: "Catalog", SN: sn, DeviceID: dev}, SumNum: sum,
		DeviceList: &manscdp.List[manscdp.CatalogItem]{Items: items},
	}
}

func ids(items []manscdp.CatalogItem) string {
	s := ""
	for _, it := range items {
		s += it.DeviceID
	}
	return s
}

func TestAggregatorCatalog(t *testing.T) {
	type step struct {
		pkt     manscdp.Message
		at      time.Duration
		done    bool
		wantIDs string
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{
			{catPacket("d", 1, 3, "a", "b"), 0, false, ""},
			{catPacket("d", 1, 3, "c"), time.Second, true, "abc"},
		}},
		{"out of order", []step{
			{catPacket("d", 1, 3, "c"), 0, false, ""},
			{catPacket("d", 1, 3, "a", "b"), time.Second, true, "cab"},
		}},
		{"retransmitted packet", []step{
			{catPacket("d", 1, 3, "a", "b"), 0, false, ""},
			{catPacket("d", 1, 3, "a", "b"), 0, false, ""},
			{catPacket("d", 1, 3, "c"), 0, true, "abc"},
			{catPacket("d", 1, 3, "c"), time.Second, false, ""}, // late duplicate after completion is dropped
		}},
		{"more items than SumNum in one packet", []step{
			{catPacket("d", 1, 2, "a", "b", "c"), 0, true, "abc"},
			{catPacket("d", 1, 2, "d"), 0, false, ""},
		}},
		{"SumNum 0", []step{
			{catPacket("d", 1, 0), 0, true, ""},
		}},
		{"single packet", []step{
			{catPacket("d", 1, 1, "a"), 0, true, "a"},
		}},
		{"interleaved answers", []step{
			{catPacket("d", 1, 2, "a"), 0, false, ""},
			{catPacket("d", 2, 2, "x"), 0, false, ""},
			{catPacket("e", 1, 2, "p"), 0, false, ""},
			{catPacket("d", 2, 2, "y"), 0, true, "xy"},
			{catPacket("d", 1, 2, "b"), 0, true, "ab"},
		}},
		{"completed answer can be reused after idle", []step{
			{catPacket("d", 1, 1, "a"), 0, true, "a"},
			{catPacket("d", 1, 1, "b"), 10 * time.Second, true, "b"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &manscdp.Aggregator{IdleTimeout: 3 * time.Second}
			for i, s := range c.steps {
				res, done, err := a.Add(s.pkt, t0.Add(s.at))
				if err != nil {
					t.Fatal(err)
				}
				if done != s.done || (res != nil) != s.done {
					t.Fatalf("step %d: done=%v res=%v", i, done, res)
				}
				if done && ids(res.Catalog) != s.wantIDs {
					t.Fatalf("step %d: ids %q want %q", i, ids(res.Catalog), s.wantIDs)
				}
				if done && res.Partial {
					t.Fatalf("step %d: partial", i)
				}
			}
		})
	}
}

func TestAggregatorIdle(t *testing.T) {
	a := &manscdp.Aggregator{IdleTimeout: 2 * time.Second}
	// The NVR counts itself: SumNum 3 but only 2 items come.
	if _, done, _ := a.Add(catPacket("nvr", 5, 3, "a"), t0); done {
		t.Fatal("done early")
	}
	if _, done, _ := a.Add(catPacket("nvr", 5, 3, "b"), t0.Add(time.Second)); done {
		t.Fatal("done early")
	}
	if _, done, _ := a.Add(catPacket("other", 1, 5, "x"), t0.Add(2*time.Second)); done {
		t.Fatal("done early")
	}
	if got := a.Expire(t0.Add(2900 * time.Millisecond)); len(got) != 0 || a.Len() != 2 {
		t.Fatalf("expired too soon: %v", got)
	}
	got := a.Expire(t0.Add(3 * time.Second))
	if len(got) != 1 || !got[0].Partial || ids(got[0].Catalog) != "ab" || got[0].SumNum != 3 || got[0].Packets != 2 ||
		got[0].DeviceID != "nvr" || got[0].SN != 5 || got[0].CmdType != manscdp.CmdCatalog || got[0].Root != manscdp.RootResponse {
		t.Fatalf("%+v", got)
	}
	// A straggler of the expired answer is dropped, not a new answer.
	if res, done, err := a.Add(catPacket("nvr", 5, 3, "c"), t0.Add(4*time.Second)); res != nil || done || err != nil {
		t.Fatal("straggler accepted")
	}
	got = a.Expire(t0.Add(time.Hour))
	if len(got) != 1 || got[0].DeviceID != "other" || a.Len() != 0 {
		t.Fatalf("%+v", got)
	}
}

func TestAggregatorExpireOrder(t *testing.T) {
	a := &manscdp.Aggregator{}
	for _, k := range []struct {
		dev string
		sn  int
	}{{"b", 1}, {"a", 2}, {"a", 1}} {
		if _, _, err := a.Add(catPacket(k.dev, k.sn, 9, "x"), t0); err != nil {
			t.Fatal(err)
		}
	}
	r := &manscdp.RecordInfoResponse{Header: manscdp.Header{SN: 1, DeviceID: "a"}, SumNum: 3, RecordList: &manscdp.List[manscdp.RecordItem]{}}
	if _, _, err := a.Add(r, t0); err != nil {
		t.Fatal(err)
	}
	got := a.Expire(t0.Add(manscdp.DefaultIdleTimeout))
	var order string
	for _, g := range got {
		order += fmt.Sprintf("%s%d%s ", g.DeviceID, g.SN, g.CmdType)
	}
	if order != "a1Catalog a1RecordInfo a2Catalog b1Catalog " {
		t.Fatal(order)
	}
}

func TestAggregatorRecords(t *testing.T) {
	tm := func(h int) manscdp.Time { return manscdp.NewTime(time.Date(2026, 1, 1, h, 0, 0, 0, time.Local)) }
	rec := func(h int, path string) manscdp.RecordItem {
		return manscdp.RecordItem{DeviceID: "ch", StartTime: tm(h), EndTime: tm(h + 1), FilePath: path}
	}
	pkt := func(sum int, items ...manscdp.RecordItem) *manscdp.RecordInfoResponse {
		return &manscdp.RecordInfoResponse{
			Header: manscdp.Header{SN: 4, DeviceID: "ch"}, Name: "大门", SumNum: sum,
			RecordList: &manscdp.List[manscdp.RecordItem]{Items: items},
		}
	}
	a := &manscdp.Aggregator{}
	// Same channel and times but another file is a distinct record; an exact repeat is not.
	if _, done, _ := a.Add(pkt(3, rec(1, "x"), rec(1, "y")), t0); done {
		t.Fatal("early")
	}
	if _, done, _ := a.Add(pkt(3, rec(1, "x")), t0); done {
		t.Fatal("duplicate counted")
	}
	res, done, err := a.Add(pkt(3, rec(2, "")), t0)
	if err != nil || !done || len(res.Records) != 3 || res.Name != "大门" || res.Len() != 3 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestAggregatorCatalogNotify(t *testing.T) {
	a := &manscdp.Aggregator{}
	n := &manscdp.CatalogNotify{
		Header: manscdp.Header{SN: 1, DeviceID: "p"}, SumNum: 1,
		DeviceList: &manscdp.List[manscdp.CatalogItem]{Items: []manscdp.CatalogItem{{DeviceID: "a", Event: "ON"}}},
	}
	// A response with the same DeviceID and SN is a different answer.
	if _, done, _ := a.Add(catPacket("p", 1, 2, "z"), t0); done {
		t.Fatal("early")
	}
	res, done, err := a.Add(n, t0)
	if err != nil || !done || res.Root != manscdp.RootNotify || ids(res.Catalog) != "a" {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestAggregatorBounds(t *testing.T) {
	a := &manscdp.Aggregator{MaxItems: 3, MaxPending: 2}
	// Items without an ID are kept, not merged.
	res, done, err := a.Add(catPacket("d", 1, 1000, "", "", "a", "b"), t0)
	if err != nil || !done || !res.Truncated || res.Len() != 3 || res.Partial {
		t.Fatalf("%+v %v", res, err)
	}
	if _, _, err := a.Add(catPacket("d", 2, 10, "a"), t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Add(catPacket("d", 3, 10, "a"), t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Add(catPacket("d", 4, 10, "a"), t0); !errors.Is(err, manscdp.ErrTooManyPending) {
		t.Fatal(err)
	}
	if _, _, err := a.Add(manscdp.NewKeepalive("d", 1), t0); !errors.Is(err, manscdp.ErrNotAggregatable) {
		t.Fatal(err)
	}
	if _, _, err := a.Add(nil, t0); !errors.Is(err, manscdp.ErrNotAggregatable) {
		t.Fatal(err)
	}
	// Completion memory stays bounded too.
	b := &manscdp.Aggregator{MaxPending: 2}
	for sn := range 10 {
		if _, done, err := b.Add(catPacket("d", sn, 0), t0); err != nil || !done {
			t.Fatal(err)
		}
	}
}
