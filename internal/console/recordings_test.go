package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// day is the day the recordings tests record on.
var day = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

// timeline is the answer of GET /channels/{id}/recordings.
type timeline struct {
	Source   string `json:"source"`
	Segments []struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
	} `json:"segments"`
	Gaps []struct {
		Start  time.Time `json:"start"`
		End    time.Time `json:"end"`
		Cause  string    `json:"cause"`
		Detail string    `json:"detail"`
	} `json:"gaps"`
}

// record indexes a closed segment of channel from day+from to day+to, as
// the recorder would.
func (e *env) record(channel string, from, to time.Duration) {
	e.t.Helper()
	_, err := e.st.Pool.Exec(context.Background(), `
INSERT INTO recordings (channel_id, start_at, end_at, open, bytes, object_key, retention_days, expires_at)
VALUES ($1, $2, $3, false, 1000, $4, 30, $3::timestamptz + interval '30 days')`,
		channel, day.Add(from), day.Add(to), channel+"/"+day.Add(from).Format("150405.000")+".mp4")
	if err != nil {
		e.t.Fatal(err)
	}
}

// gap records a hole of channel from day+from to day+to (to 0: still open).
func (e *env) gap(channel, cause string, from, to time.Duration) {
	e.t.Helper()
	e.gapDetail(channel, cause, "test", from, to)
}

// gapDetail is gap with its detail.
func (e *env) gapDetail(channel, cause, detail string, from, to time.Duration) {
	e.t.Helper()
	var end *time.Time
	if to != 0 {
		t := day.Add(to)
		end = &t
	}
	_, err := e.st.Pool.Exec(context.Background(), `
INSERT INTO recording_gaps (channel_id, start_at, end_at, cause, detail) VALUES ($1, $2, $3, $4, $5)`,
		channel, day.Add(from), end, cause, detail)
	if err != nil {
		e.t.Fatal(err)
	}
}

func recordingsPath(channel string, from, to time.Duration, source string) string {
	q := url.Values{"start": {day.Add(from).Format(time.RFC3339)}, "end": {day.Add(to).Format(time.RFC3339)}}
	if source != "" {
		q.Set("source", source)
	}
	return "/api/v1/channels/" + channel + "/recordings?" + q.Encode()
}

func TestRecordings(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	e.addUser("op", "op-password", store.RoleOperator)
	op := e.client()
	op.login("op", "op-password")
	// Two segments that touch within a second, then a hole, then one more.
	e.record(channelA1, time.Hour, time.Hour+time.Minute)
	e.record(channelA1, time.Hour+time.Minute+500*time.Millisecond, time.Hour+2*time.Minute)
	e.record(channelA1, 3*time.Hour, 3*time.Hour+time.Minute)
	e.gap(channelA1, "camera_offline", time.Hour+2*time.Minute, 3*time.Hour)
	// Open: it lasts until now, clipped to the range. Its detail quotes a
	// stream URL: the recorder's token in it is not shown.
	e.gapDetail(channelA1, "stream_error", `rtsp://gw:8554/live/x?token=v1.abc.def: EOF`, 4*time.Hour, 0)
	e.record(channelB1, time.Hour, 2*time.Hour)

	var tl timeline
	r := op.do(http.MethodGet, recordingsPath(channelA1, 0, 24*time.Hour, ""), nil)
	mustStatus(t, "platform timeline", r, http.StatusOK, "")
	r.json(t, &tl)
	if tl.Source != "platform" || len(tl.Segments) != 2 || len(tl.Gaps) != 2 {
		t.Fatalf("timeline %s", r.Body)
	}
	if s := tl.Segments[0]; !s.Start.Equal(day.Add(time.Hour)) || !s.End.Equal(day.Add(time.Hour+2*time.Minute)) {
		t.Errorf("first span %v–%v, want the two touching segments as one", s.Start, s.End)
	}
	if g := tl.Gaps[0]; g.Cause != "camera_offline" || !g.Start.Equal(day.Add(time.Hour+2*time.Minute)) || !g.End.Equal(day.Add(3*time.Hour)) {
		t.Errorf("first gap %+v", g)
	}
	if g := tl.Gaps[1]; g.Cause != "stream_error" || !g.End.Equal(day.Add(24*time.Hour)) {
		t.Errorf("open gap %+v, want it to the range's end", g)
	}
	if g := tl.Gaps[0]; g.Detail != "test" {
		t.Errorf("first gap's detail %q", g.Detail)
	}
	if g := tl.Gaps[1]; g.Detail != "rtsp://gw:8554/live/x?token=REDACTED: EOF" {
		t.Errorf("open gap's detail %q, want its token redacted", g.Detail)
	}

	// A range inside a span is clipped to the range.
	r = op.do(http.MethodGet, recordingsPath(channelA1, time.Hour+30*time.Second, time.Hour+90*time.Second, "platform"), nil)
	mustStatus(t, "clipped", r, http.StatusOK, "")
	r.json(t, &tl)
	if len(tl.Segments) != 1 || !tl.Segments[0].Start.Equal(day.Add(time.Hour+30*time.Second)) || len(tl.Gaps) != 0 {
		t.Errorf("clipped timeline %s", r.Body)
	}

	// The device's own records, in the same shape.
	r = op.do(http.MethodGet, recordingsPath(channelA1, 0, 24*time.Hour, "device"), nil)
	mustStatus(t, "device timeline", r, http.StatusOK, "")
	r.json(t, &tl)
	if tl.Source != "device" || len(tl.Segments) != 1 || !tl.Segments[0].Start.Equal(day.Add(8*time.Hour)) ||
		tl.Gaps == nil || len(tl.Gaps) != 0 {
		t.Errorf("device timeline %s", r.Body)
	}
	if n := e.actions("op")["recordings"]; n != 3 {
		t.Errorf("%d recordings audit rows, want 3", n)
	}

	for _, tc := range []struct {
		name, query string
	}{
		{"no range", ""},
		{"no end", "?start=2024-05-01T00:00:00Z"},
		{"not a time", "?start=yesterday&end=2024-05-01T00:00:00Z"},
		{"end before start", "?start=2024-05-02T00:00:00Z&end=2024-05-01T00:00:00Z"},
		{"empty range", "?start=2024-05-01T00:00:00Z&end=2024-05-01T00:00:00Z"},
		{"over 31 days", "?start=2024-05-01T00:00:00Z&end=2024-06-02T00:00:00Z"},
		{"unknown source", "?start=2024-05-01T00:00:00Z&end=2024-05-02T00:00:00Z&source=cloud"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := op.do(http.MethodGet, "/api/v1/channels/"+channelA1+"/recordings"+tc.query, nil)
			mustStatus(t, tc.name, r, http.StatusBadRequest, "bad_request")
		})
	}
}

// TestRecordingsGrants: the timeline needs the playback right on the
// channel; a channel the user cannot see is the 404 of an unknown one.
func TestRecordingsGrants(t *testing.T) {
	noon := time.Date(2026, 6, 1, 12, 0, 0, 0, time.Local)
	e := newEnv(t, envOptions{now: func() time.Time { return noon }})
	e.seed()
	e.record(channelA1, time.Hour, 2*time.Hour)
	e.addUser("root", "root-password", store.RoleAdmin)
	root := e.client()
	root.login("root", "root-password")
	alice := e.member("alice", store.RoleOperator, "dept-a", "")
	dept := strconv.FormatInt(e.department("dept-a"), 10)
	path := recordingsPath(channelA1, 0, 24*time.Hour, "")

	mustStatus(t, "unseen", alice.do(http.MethodGet, path, nil), http.StatusNotFound, "not_found")
	mustStatus(t, "unknown", alice.do(http.MethodGet, recordingsPath(unknownChannel, 0, time.Hour, ""), nil), http.StatusNotFound, "not_found")
	r := root.do(http.MethodPost, "/api/v1/departments/"+dept+"/grants", map[string]any{
		"scope": map[string]any{"kind": "channels", "channel_ids": []string{channelA1}}, "rights": []string{"live"},
	})
	mustStatus(t, "grant live", r, http.StatusCreated, "")
	mustStatus(t, "live only", alice.do(http.MethodGet, path, nil), http.StatusForbidden, "forbidden")
	r = root.do(http.MethodPost, "/api/v1/departments/"+dept+"/grants", map[string]any{
		"scope": map[string]any{"kind": "channels", "channel_ids": []string{channelA1}}, "rights": []string{"playback"},
	})
	mustStatus(t, "grant playback", r, http.StatusCreated, "")
	var tl timeline
	r = alice.do(http.MethodGet, path, nil)
	mustStatus(t, "with playback", r, http.StatusOK, "")
	r.json(t, &tl)
	if len(tl.Segments) != 1 {
		t.Errorf("timeline %s", r.Body)
	}
	if n := e.actions("alice")["access_denied"]; n < 2 {
		t.Errorf("%d access_denied rows of alice, want the refusals audited", n)
	}
}
