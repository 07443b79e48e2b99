package sipserver

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
)

// TestUpControls: a superior's MANSRTSP maps to our playback controls.
func TestUpControls(t *testing.T) {
	for _, tc := range []struct {
		body string
		want []upControl
	}{
		{"PAUSE RTSP/1.0\r\nCSeq: 1\r\nPauseTime: now\r\n\r\n", []upControl{{action: "pause"}}},
		{"PLAY RTSP/1.0\r\nCSeq: 2\r\nRange: npt=now-\r\n\r\n", []upControl{{action: "resume"}}},
		{"PLAY RTSP/1.0\r\nCSeq: 3\r\n\r\n", []upControl{{action: "resume"}}},
		{"PLAY RTSP/1.0\r\nCSeq: 4\r\nScale: 0.5\r\n\r\n", []upControl{{action: "scale", scale: 0.5}}},
		{"PLAY RTSP/1.0\r\nCSeq: 5\r\nScale: 64\r\n\r\n", []upControl{{action: "scale", scale: 16}}},
		{"PLAY RTSP/1.0\r\nCSeq: 6\r\nRange: npt=90.5-\r\n\r\n", []upControl{{action: "seek", position: 90500 * time.Millisecond}}},
		{
			"PLAY MANSRTSP/1.0\r\nCSeq: 7\r\nRange: npt=10-\r\nScale: 2.0\r\n\r\n",
			[]upControl{{action: "seek", position: 10 * time.Second}, {action: "scale", scale: 2}},
		},
	} {
		r, err := mansrtsp.ParseRequest([]byte(tc.body))
		if err != nil {
			t.Fatalf("%q: %v", tc.body, err)
		}
		if got := upControls(r); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.body, got, tc.want)
		}
	}
}

// TestUpSpeed: a superior's download speed becomes one devices take.
func TestUpSpeed(t *testing.T) {
	for in, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 7: 4, 8: 8, 16: 8, 255: 8} {
		if got := upSpeed(in); got != want {
			t.Errorf("upSpeed(%d) = %d, want %d", in, got, want)
		}
	}
}

// TestSIPStatusOf: errors of ours and the device's become the SIP answer
// a superior gets.
func TestSIPStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{&RejectedError{Method: "INVITE", Code: 486, Reason: "Busy Here"}, 486},
		{&RejectedError{Method: "INFO", Code: 481, Reason: "Call Does Not Exist"}, 502},
		{&RejectedError{Method: "INVITE", Code: 401, Reason: "Unauthorized"}, 502},
		{ErrNoSession, 404},
		{ErrOffline, 480},
		{badRequest("t= 0 0"), 400},
		{ErrTimeout, 408},
		{ErrMediaUnavailable, 503},
	} {
		if code, _ := sipStatusOf(tc.err); code != tc.code {
			t.Errorf("%v: %d, want %d", tc.err, code, tc.code)
		}
	}
}

// TestUpwardRecordInfoOurs: a superior's RecordInfo lists our own
// recordings of the channel, one item per stretch without a hole, recorded
// by us, beside the device's; a query of alarm records leaves them out.
// Which source serves a playback follows (replayNode): ours when they
// begin within replayLead of the window's start, or anywhere in it while
// the camera is offline, from a live node that can read them.
func TestUpwardRecordInfoOurs(t *testing.T) {
	_, lower, sup, _, shared, _ := upwardSetup(t, "{live,playback}")
	ctx := context.Background()
	t1 := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, seg := range [][2]time.Duration{{0, 2 * time.Second}, {2 * time.Second, 4 * time.Second}, {10 * time.Second, 12 * time.Second}} {
		if _, err := lower.store.Pool.Exec(ctx, `INSERT INTO recordings (channel_id, start_at, end_at, open, bytes, object_key,
			store, video_codec, retention_days, expires_at, node)
			VALUES ($1, $2, $3, false, 1000, $4, 'dir://n1', 'h264', 30, $3::timestamptz + interval '30 days', 'n1')`,
			shared, t1.Add(seg[0]), t1.Add(seg[1]), shared+"/"+seg[0].String()+".mp4"); err != nil {
			t.Fatal(err)
		}
	}
	query := func(sn int, typ string) []manscdp.RecordItem {
		t.Helper()
		body := `<?xml version="1.0"?><Query><CmdType>RecordInfo</CmdType><SN>` + strconv.Itoa(sn) + `</SN><DeviceID>` + shared +
			`</DeviceID><StartTime>` + t1.Add(-time.Minute).Local().Format("2006-01-02T15:04:05") + `</StartTime><EndTime>` +
			t1.Add(time.Minute).Local().Format("2006-01-02T15:04:05") + `</EndTime><Secrecy>0</Secrecy><Type>` + typ + `</Type></Query>`
		if code := sup.message(body); code != 200 {
			t.Fatalf("RecordInfo: %d", code)
		}
		var items []manscdp.RecordItem
		for {
			m, err := manscdp.Decode(sup.next(sip.MESSAGE, "<SN>"+strconv.Itoa(sn)+"</SN>").Body())
			if err != nil {
				t.Fatal(err)
			}
			page := m.(*manscdp.RecordInfoResponse)
			if page.RecordList != nil {
				items = append(items, page.RecordList.Items...)
			}
			if len(items) >= page.SumNum {
				return items
			}
		}
	}
	ours := func(items []manscdp.RecordItem) [][2]time.Time {
		var out [][2]time.Time
		for _, it := range items {
			if it.RecorderID == lower.srv.Config.ID {
				out = append(out, [2]time.Time{it.StartTime.Time, it.EndTime.Time})
			}
		}
		return out
	}
	got := ours(query(81, "all"))
	want := [][2]time.Time{{t1, t1.Add(4 * time.Second)}, {t1.Add(10 * time.Second), t1.Add(12 * time.Second)}}
	if len(got) != 2 || !got[0][0].Equal(want[0][0]) || !got[0][1].Equal(want[0][1]) || !got[1][0].Equal(want[1][0]) ||
		!got[1][1].Equal(want[1][1]) {
		t.Fatalf("our recordings %v, want %v", got, want)
	}
	if got := ours(query(82, "alarm")); len(got) != 0 {
		t.Fatalf("our recordings in an alarm query: %v", got)
	}

	// The source of a playback.
	node := func(start time.Time, online bool) string {
		t.Helper()
		url, err := lower.srv.replayNode(ctx, store.Channel{ID: shared, Online: online}, start, start.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return url
	}
	if got := node(t1, true); got != "" {
		t.Fatalf("no recorder node is live: %q", got)
	}
	if _, err := lower.store.Pool.Exec(ctx, `INSERT INTO recorder_nodes (node, url) VALUES ('n0', 'http://n0'), ('n1', 'http://n1')`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		start  time.Time
		online bool
		want   string
	}{
		{t1, true, "http://n1"},                         // ours from the start, from the node holding them
		{t1.Add(-4 * time.Second), true, "http://n1"},   // within replayLead
		{t1.Add(-10 * time.Second), true, ""},           // the camera's, it is online
		{t1.Add(-10 * time.Second), false, "http://n1"}, // ours, the camera is offline
		{t1.Add(13 * time.Second), false, ""},           // none of ours in the window
	} {
		if got := node(tc.start, tc.online); got != tc.want {
			t.Errorf("window from %v, online %v: %q, want %q", tc.start.Sub(t1), tc.online, got, tc.want)
		}
	}
}
