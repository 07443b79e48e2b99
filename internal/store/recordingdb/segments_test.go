package recordingdb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// t0 is a fixed instant: every test time is injected.
var t0 = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

func key(ch string, start time.Time) string {
	return fmt.Sprintf("%s/%s.mp4", ch, start.UTC().Format("2006/01/02/150405.000"))
}

// addSegment indexes a closed segment [start, end) of ch.
func addSegment(t testing.TB, db *recordingdb.DB, ch, node string, start, end time.Time, days int) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := db.OpenSegment(ctx, recordingdb.Segment{
		ChannelID: ch, Start: start, ObjectKey: key(ch, start),
		Store: "dir", RetentionDays: days, Node: node,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CloseSegment(ctx, id, end, 1000, recordingdb.Info{VideoCodec: "h264", Width: 1920, Height: 1080}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSegmentLifecycle(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	s := recordingdb.Segment{
		ChannelID: chA, Start: t0, ObjectKey: key(chA, t0), Store: "dir", RetentionDays: 30,
		Node: "a", Info: recordingdb.Info{VideoCodec: "h264"},
	}
	id, err := db.OpenSegment(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenSegment(ctx, s); err == nil {
		t.Fatal("a second row for one object key")
	}
	if _, err := db.OpenSegment(ctx, recordingdb.Segment{ChannelID: chA}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty segment: %v", err)
	}
	if err := db.ExtendSegment(ctx, id, t0.Add(time.Second), 4096); err != nil {
		t.Fatal(err)
	}
	open, err := db.OpenSegments(ctx, "a")
	if err != nil || len(open) != 1 {
		t.Fatalf("open segments %+v, %v", open, err)
	}
	got := open[0]
	if got.ID != id || !got.Open || got.Bytes != 4096 || !got.End.Equal(t0.Add(time.Second)) ||
		!got.ExpiresAt.Equal(t0.Add(time.Second+30*24*time.Hour)) || got.VideoCodec != "h264" {
		t.Fatalf("open segment %+v", got)
	}
	if other, _ := db.OpenSegments(ctx, "b"); len(other) != 0 {
		t.Fatalf("b's open segments %+v", other)
	}

	// b takes the channel over from a, whose lease expired.
	exec(t, db, `INSERT INTO recorder_leases (channel_id, node, expires_at) VALUES ($1, 'a', now() - interval '1 second')`, chA)
	if _, err := db.AcquireLeases(ctx, "b", []string{chA}, 1, time.Minute); err != nil {
		t.Fatal(err)
	}

	// An open segment repair found empty goes; a closed one stays.
	empty, err := db.OpenSegment(ctx, recordingdb.Segment{ChannelID: chB, Start: t0, ObjectKey: "empty", RetentionDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteOpenSegment(ctx, empty); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Segment(ctx, empty); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted open segment: %v", err)
	}

	end := t0.Add(61 * time.Second)
	info := recordingdb.Info{VideoCodec: "h265", AudioCodec: "g711a", Width: 1280, Height: 720}
	if err := db.CloseSegment(ctx, id, end, 1<<20, info); err != nil {
		t.Fatal(err)
	}
	if err := db.ExtendSegment(ctx, id, end.Add(time.Second), 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("extend a closed segment: %v", err)
	}
	// Codec names are the recorder's, as received: no others.
	for _, bad := range []recordingdb.Info{{VideoCodec: "H264"}, {AudioCodec: "lpcm"}, {AudioCodec: "MPEG-4 Audio"}} {
		if err := db.CloseSegment(ctx, id, end, 1, bad); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("close with %+v: %v", bad, err)
		}
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE recordings SET video_codec = 'H264' WHERE id = $1`, id); err == nil {
		t.Fatal("the CHECK let video_codec H264 in")
	}
	// Closing again (repair after a crash between commit and index) is allowed.
	if err := db.CloseSegment(ctx, id, end, 1<<20, info); err != nil {
		t.Fatal(err)
	}
	got, err = db.Segment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Open || got.Bytes != 1<<20 || got.Info != info || !got.End.Equal(end) || !got.ExpiresAt.Equal(end.Add(30*24*time.Hour)) {
		t.Fatalf("closed segment %+v", got)
	}
	if err := db.DeleteOpenSegment(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Segment(ctx, id); err != nil {
		t.Fatalf("closed segment deleted as open: %v", err)
	}
	if err := db.CloseSegment(ctx, 999, end, 0, info); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("close missing: %v", err)
	}
	if _, err := db.Segment(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}

	// The lease's previous end is the channel's last closed segment.
	exec(t, db, `UPDATE recorder_leases SET expires_at = now() - interval '1 second'`)
	l, err := db.AcquireLeases(ctx, "c", []string{chA}, 1, time.Minute)
	if err != nil || len(l) != 1 || l[0].PreviousNode != "b" || !l[0].PreviousEnd.Equal(end) {
		t.Fatalf("lease %+v, %v", l, err)
	}
}

func TestGaps(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	if _, _, err := db.OpenGap(ctx, recordingdb.Gap{ChannelID: chA, Start: t0, Cause: "bored"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad cause: %v", err)
	}
	g1, _, err := db.OpenGap(ctx, recordingdb.Gap{ChannelID: chA, Start: t0, Cause: recordingdb.CauseCameraOffline, Node: "a"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = db.OpenGap(ctx, recordingdb.Gap{
		ChannelID: chA, Start: t0.Add(time.Minute), Cause: recordingdb.CauseStorageError,
		Detail: "minio: connection refused",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CloseGap(ctx, g1, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.CloseGap(ctx, g1, t0.Add(20*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("close twice: %v", err)
	}
	open, err := db.OpenGaps(ctx, chA)
	if err != nil || len(open) != 1 || open[0].Cause != recordingdb.CauseStorageError || !open[0].End.IsZero() {
		t.Fatalf("open gaps %+v, %v", open, err)
	}
	n, err := db.CloseOpenGaps(ctx, chA, t0.Add(5*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("closed %d, %v", n, err)
	}
	if open, _ := db.OpenGaps(ctx, chA); len(open) != 0 {
		t.Fatalf("open gaps left %+v", open)
	}
}

// TestGapExtended: a gap that starts where the channel's last gap of the
// same cause ended (within MergeWithin) extends it — a restart's repair
// closed its recorder_down gap at the restart and the restarted node goes
// on from there: one hole, one gap. Another cause, or a hole between,
// opens a gap of its own.
func TestGapExtended(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	m := time.Minute
	down := func(start, end time.Time) recordingdb.Gap {
		return recordingdb.Gap{
			ChannelID: chA, Start: start, End: end, Cause: recordingdb.CauseRecorderDown,
			Detail: "repair", Node: "a",
		}
	}
	first, ext, err := db.OpenGap(ctx, down(t0, t0.Add(m)))
	if err != nil || ext {
		t.Fatalf("first gap: extended %v, %v", ext, err)
	}
	for _, c := range []struct {
		name     string
		g        recordingdb.Gap
		extended bool
		end      time.Time // of the first gap after the call
	}{
		{"where it ended, closed", down(t0.Add(m), t0.Add(2*m)), true, t0.Add(2 * m)},
		{"within MergeWithin, open", down(t0.Add(2*m+500*time.Millisecond), time.Time{}), true, time.Time{}},
	} {
		id, ext, err := db.OpenGap(ctx, c.g)
		if err != nil || !ext || id != first {
			t.Fatalf("%s: id %d (first %d), extended %v, %v", c.name, id, first, ext, err)
		}
		open, err := db.OpenGaps(ctx, chA)
		if err != nil || (c.end.IsZero() != (len(open) == 1)) {
			t.Fatalf("%s: open gaps %+v, %v", c.name, open, err)
		}
	}
	if err := db.CloseGap(ctx, first, t0.Add(3*m)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		g    recordingdb.Gap
	}{
		{"another cause", recordingdb.Gap{ChannelID: chA, Start: t0.Add(3 * m), End: t0.Add(4 * m), Cause: recordingdb.CausePlanOff}},
		{"a hole between", down(t0.Add(4*m+2*time.Second), t0.Add(5*m))},
		{"another channel", recordingdb.Gap{ChannelID: chB, Start: t0.Add(5 * m), Cause: recordingdb.CauseRecorderDown}},
	} {
		if id, ext, err := db.OpenGap(ctx, c.g); err != nil || ext || id == first {
			t.Fatalf("%s: id %d, extended %v, %v", c.name, id, ext, err)
		}
	}
	var rows int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM recording_gaps`).Scan(&rows); err != nil || rows != 4 {
		t.Fatalf("%d gap rows, %v; want 4", rows, err)
	}
}

// TestTimelineMergesGaps: gap rows of one cause that touch within
// MergeWithin show as one gap; of different causes, or apart, as two.
func TestTimelineMergesGaps(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	m := time.Minute
	for _, g := range []struct {
		start, end time.Duration
		cause      recordingdb.Cause
	}{
		{0, m, recordingdb.CauseRecorderDown},
		{m + 500*time.Millisecond, 2 * m, recordingdb.CauseRecorderDown},
		{2 * m, 3 * m, recordingdb.CausePlanOff},
		{3*m + 2*time.Second, 4 * m, recordingdb.CausePlanOff},
		// A stream that ended and came back within its cached GOP: the
		// gap is closed where it started and covers no time.
		{4*m + 30*time.Second, 4*m + 30*time.Second, recordingdb.CauseStreamError},
	} {
		exec(t, db, `INSERT INTO recording_gaps (channel_id, start_at, end_at, cause) VALUES ($1, $2, $3, $4)`,
			chA, t0.Add(g.start), t0.Add(g.end), g.cause)
	}
	tl, err := db.Timeline(ctx, chA, t0, t0.Add(5*m))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		start, end time.Duration
		cause      recordingdb.Cause
	}{
		{0, 2 * m, recordingdb.CauseRecorderDown},
		{2 * m, 3 * m, recordingdb.CausePlanOff},
		{3*m + 2*time.Second, 4 * m, recordingdb.CausePlanOff},
	}
	if len(tl.Gaps) != len(want) {
		t.Fatalf("gaps %+v", tl.Gaps)
	}
	for i, w := range want {
		g := tl.Gaps[i]
		if !g.Start.Equal(t0.Add(w.start)) || !g.End.Equal(t0.Add(w.end)) || g.Cause != w.cause {
			t.Errorf("gap %d: %v–%v %s, want %v–%v %s", i, g.Start, g.End, g.Cause, t0.Add(w.start), t0.Add(w.end), w.cause)
		}
	}
}

// TestRecordedUntil: the later of the last segment's end and the last
// closed gap's end; zero for a channel with neither.
func TestRecordedUntil(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	until := func(want time.Time) {
		t.Helper()
		if got, err := db.RecordedUntil(ctx, chA); err != nil || !got.Equal(want) {
			t.Fatalf("recorded until %v, %v; want %v", got, err, want)
		}
	}
	until(time.Time{})
	addSegment(t, db, chA, "a", t0, t0.Add(time.Minute), 30)
	until(t0.Add(time.Minute))
	g, _, err := db.OpenGap(ctx, recordingdb.Gap{ChannelID: chA, Start: t0.Add(time.Minute), Cause: recordingdb.CauseStreamError})
	if err != nil {
		t.Fatal(err)
	}
	until(t0.Add(time.Minute)) // an open gap does not count
	if err := db.CloseGap(ctx, g, t0.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	until(t0.Add(90 * time.Second))
	// An open segment counts as far as its fragments reach.
	id, err := db.OpenSegment(ctx, recordingdb.Segment{
		ChannelID: chA, Start: t0.Add(2 * time.Minute), ObjectKey: "open",
		RetentionDays: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ExtendSegment(ctx, id, t0.Add(150*time.Second), 10); err != nil {
		t.Fatal(err)
	}
	until(t0.Add(150 * time.Second))
}

func TestTimeline(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	m := time.Minute
	// 00:00–00:03 in three touching segments (one 0.5 s apart, one 2 s
	// apart: a hole), 00:10–00:11, and chB's own.
	addSegment(t, db, chA, "a", t0.Add(-30*time.Second), t0.Add(m), 30)
	addSegment(t, db, chA, "a", t0.Add(m+500*time.Millisecond), t0.Add(2*m), 30)
	addSegment(t, db, chA, "a", t0.Add(2*m+2*time.Second), t0.Add(3*m), 30)
	addSegment(t, db, chA, "a", t0.Add(10*m), t0.Add(11*m), 30)
	addSegment(t, db, chB, "a", t0, t0.Add(20*m), 30)
	if _, _, err := db.OpenGap(ctx, recordingdb.Gap{
		ChannelID: chA, Start: t0.Add(3 * m), End: t0.Add(10 * m),
		Cause: recordingdb.CauseCameraOffline,
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.OpenGap(ctx, recordingdb.Gap{
		ChannelID: chA, Start: t0.Add(11 * m),
		Cause: recordingdb.CauseStreamError, Detail: "EOF",
	}); err != nil {
		t.Fatal(err)
	}

	tl, err := db.Timeline(ctx, chA, t0, t0.Add(12*m))
	if err != nil {
		t.Fatal(err)
	}
	wantSpans := []recordingdb.Span{
		{t0, t0.Add(2 * m)},
		{t0.Add(2*m + 2*time.Second), t0.Add(3 * m)},
		{t0.Add(10 * m), t0.Add(11 * m)},
	}
	if !spansEqual(tl.Segments, wantSpans) {
		t.Fatalf("spans %v, want %v", tl.Segments, wantSpans)
	}
	if len(tl.Gaps) != 2 || tl.Gaps[0].Cause != recordingdb.CauseCameraOffline || !tl.Gaps[0].End.Equal(t0.Add(10*m)) ||
		tl.Gaps[1].Detail != "EOF" || !tl.Gaps[1].End.Equal(t0.Add(12*m)) {
		t.Fatalf("gaps %+v", tl.Gaps)
	}

	// Clipped inside segments and gaps.
	tl, err = db.Timeline(ctx, chA, t0.Add(90*time.Second), t0.Add(5*m))
	if err != nil {
		t.Fatal(err)
	}
	wantSpans = []recordingdb.Span{
		{t0.Add(90 * time.Second), t0.Add(2 * m)},
		{t0.Add(2*m + 2*time.Second), t0.Add(3 * m)},
	}
	if !spansEqual(tl.Segments, wantSpans) || len(tl.Gaps) != 1 || !tl.Gaps[0].Start.Equal(t0.Add(3*m)) ||
		!tl.Gaps[0].End.Equal(t0.Add(5*m)) {
		t.Fatalf("clipped %+v", tl)
	}
	tl, err = db.Timeline(ctx, chA, t0.Add(30*m), t0.Add(40*m))
	if err != nil || len(tl.Segments) != 0 || len(tl.Gaps) != 1 {
		t.Fatalf("after: %+v, %v", tl, err)
	}
	if _, err := db.Timeline(ctx, chA, t0, t0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty range: %v", err)
	}
	// Marked rows are gone from the timeline at once.
	exec(t, db, `UPDATE recordings SET deleting = true WHERE channel_id = $1 AND start_at >= $2`, chA, t0.Add(10*m))
	tl, err = db.Timeline(ctx, chA, t0.Add(9*m), t0.Add(12*m))
	if err != nil || len(tl.Segments) != 0 {
		t.Fatalf("marked: %+v, %v", tl, err)
	}
}

func spansEqual(a, b []recordingdb.Span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Start.Equal(b[i].Start) || !a[i].End.Equal(b[i].End) {
			return false
		}
	}
	return true
}

func TestCompleteness(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	seedPlans(t, db)
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	h := time.Hour
	// 2026-12-07 is a Monday; midnight in Shanghai is 16:00 UTC the day before.
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, sh)
	// chB: weekdays 08:00–18:00 → 10 h planned; recorded 07:00–09:00
	// and 17:30–19:00 → 1 h + 0.5 h inside.
	addSegment(t, db, chB, "a", day.Add(7*h), day.Add(9*h), 45)
	addSegment(t, db, chB, "a", day.Add(17*h+30*time.Minute), day.Add(19*h), 45)
	// chE: always → 24 h; recorded 23:00 the day before to 01:00 → 1 h.
	addSegment(t, db, chE, "a", day.Add(-h), day.Add(h), 7)
	// chA: off → nothing planned, whatever is recorded.
	addSegment(t, db, chA, "a", day, day.Add(h), 7)
	for _, tc := range []struct {
		ch                string
		day               time.Time
		recorded, planned time.Duration
	}{
		{chB, day, 90 * time.Minute, 10 * h},
		{chB, day.Add(5 * 24 * h), 0, 0}, // Saturday
		{chE, day.Add(13 * h), h, 24 * h},
		{chA, day, 0, 0},
		// chD: Saturdays and Sundays 22:00–06:00 → Sunday has Saturday's
		// morning tail and its own evening: 8 h.
		{chD, day.Add(6 * 24 * h), 0, 8 * h},
	} {
		rec, plan, err := db.Completeness(ctx, tc.ch, tc.day, sh, defaults)
		if err != nil {
			t.Fatal(err)
		}
		if rec != tc.recorded || plan != tc.planned {
			t.Errorf("%s on %s: recorded %v of %v, want %v of %v", tc.ch, tc.day.Format(time.DateOnly), rec, plan,
				tc.recorded, tc.planned)
		}
	}
	if _, _, err := db.Completeness(ctx, chO, day, sh, defaults); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("not a video channel: %v", err)
	}
	if _, _, err := db.Completeness(ctx, chB, day, time.Local, defaults); !errors.Is(err, recordingdb.ErrTimeZone) {
		t.Fatalf("Local: %v", err)
	}
}

// TestWindowsAgree: the database's record_windows and Go's Active read a
// schedule alike, minute by minute over a week.
func TestWindowsAgree(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	sched := recordingdb.Schedule{
		{Days: []int{1, 3}, Start: "22:30", End: "02:15"},
		{Days: []int{3}, Start: "01:00", End: "03:00"},
		{Days: []int{7}, Start: "09:00", End: "09:00"},
	}
	js, err := sched.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 12, 7, 0, 0, 0, 0, sh)
	to := from.AddDate(0, 0, 8)
	rows, err := db.Pool.Query(ctx, `SELECT lower(r), upper(r) FROM unnest(record_windows('schedule', $1, $2, $3, $4)) r`,
		js, from, to, sh.String())
	if err != nil {
		t.Fatal(err)
	}
	var spans []recordingdb.Span
	for rows.Next() {
		var s recordingdb.Span
		if err := rows.Scan(&s.Start, &s.End); err != nil {
			t.Fatal(err)
		}
		spans = append(spans, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	p := recordingdb.Plan{Mode: recordingdb.ModeSchedule, Schedule: sched}
	for at := from; at.Before(to); at = at.Add(time.Minute) {
		inSQL := false
		for _, s := range spans {
			if !at.Before(s.Start) && at.Before(s.End) {
				inSQL = true
			}
		}
		if inSQL != p.Active(at, sh) {
			t.Fatalf("%v: SQL %v, Go %v (spans %v)", at, inSQL, !inSQL, spans)
		}
	}
}

func TestSweeper(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	day := 24 * time.Hour
	// Segments ending on days 0..9 with 3-day retention: on day 7 the
	// first five expired (end + 3 d ≤ day 7 for ends on days 0–4).
	var all []int64
	for i := range 10 {
		start := t0.Add(time.Duration(i) * day)
		all = append(all, addSegment(t, db, chA, "a", start, start.Add(time.Minute), 3))
	}
	// An open one never goes, however old.
	if _, err := db.OpenSegment(ctx, recordingdb.Segment{ChannelID: chB, Start: t0, ObjectKey: "open", RetentionDays: 1}); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(7*day + time.Minute)
	if n, err := db.SweepBacklog(ctx, "dir", now, 0); err != nil || n != 5 {
		t.Fatalf("backlog %d, %v", n, err)
	}
	n, err := db.MarkExpired(ctx, "dir", now, 0, 3)
	if err != nil || n != 3 {
		t.Fatalf("marked %d, %v", n, err)
	}
	n, err = db.MarkExpired(ctx, "dir", now, 0, 100)
	if err != nil || n != 2 {
		t.Fatalf("marked %d more, %v", n, err)
	}
	if n, _ := db.MarkExpired(ctx, "dir", now, 0, 100); n != 0 {
		t.Fatalf("marked %d again", n)
	}
	marked, err := db.Marked(ctx, "dir", 100)
	if err != nil || len(marked) != 5 || marked[0].ID != all[0] || marked[4].ID != all[4] || !marked[0].Deleting {
		t.Fatalf("marked %+v, %v", marked, err)
	}
	if n, err := db.SweepBacklog(ctx, "dir", now, 0); err != nil || n != 5 {
		t.Fatalf("backlog when marked %d, %v", n, err)
	}
	// A crash after deleting some objects: the rest are found again, and
	// deleting the same rows twice is harmless.
	if err := db.DeleteSegments(ctx, []int64{marked[0].ID, marked[1].ID}); err != nil {
		t.Fatal(err)
	}
	again, err := db.Marked(ctx, "dir", 100)
	if err != nil || len(again) != 3 || again[0].ID != all[2] {
		t.Fatalf("after a crash %+v, %v", again, err)
	}
	// An unmarked row is never deleted by ID.
	if err := db.DeleteSegments(ctx, []int64{marked[0].ID, again[0].ID, again[1].ID, again[2].ID, all[9]}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.SweepBacklog(ctx, "dir", now, 0); err != nil || n != 0 {
		t.Fatalf("backlog after %d, %v", n, err)
	}
	var left int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM recordings`).Scan(&left); err != nil || left != 6 {
		t.Fatalf("%d rows left, %v", left, err)
	}
	if m, _ := db.Marked(ctx, "dir", 100); len(m) != 0 {
		t.Fatalf("still marked %+v", m)
	}
	// Overwrite-oldest marks the oldest closed ones, expired or not.
	n, err = db.MarkOldest(ctx, "dir", 2)
	if err != nil || n != 2 {
		t.Fatalf("oldest %d, %v", n, err)
	}
	marked, err = db.Marked(ctx, "dir", 100)
	if err != nil || len(marked) != 2 || marked[0].ID != all[5] || marked[1].ID != all[6] {
		t.Fatalf("oldest marked %+v, %v", marked, err)
	}
	for _, limit := range []int{0, -1} {
		if _, err := db.MarkExpired(ctx, "dir", now, 0, limit); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("limit %d: %v", limit, err)
		}
	}
}

// TestRetentionLimit: recorder.retention_limit marks exactly the closed
// segments that ended at least the limit before now, whatever their days;
// a limit of 0 changes nothing.
func TestRetentionLimit(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	now := t0.Add(10 * time.Hour)
	// Segments of 30 days' retention ending 4h, 2h, 2h−1ms and 1h before now.
	var ids []int64
	for _, ago := range []time.Duration{4 * time.Hour, 2 * time.Hour, 2*time.Hour - time.Millisecond, time.Hour} {
		end := now.Add(-ago)
		ids = append(ids, addSegment(t, db, chA, "a", end.Add(-time.Minute), end, 30))
	}
	// An open one older than the limit stays (it is being written).
	if _, err := db.OpenSegment(ctx, recordingdb.Segment{
		ChannelID: chB, Start: t0, End: t0.Add(time.Hour),
		ObjectKey: "open", RetentionDays: 1,
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.SweepBacklog(ctx, "dir", now, 0); err != nil || n != 0 {
		t.Fatalf("backlog without a limit %d, %v", n, err)
	}
	if n, err := db.MarkExpired(ctx, "dir", now, 0, 100); err != nil || n != 0 {
		t.Fatalf("a limit of 0 marked %d, %v", n, err)
	}
	if n, err := db.SweepBacklog(ctx, "dir", now, 2*time.Hour); err != nil || n != 2 {
		t.Fatalf("backlog with a 2h limit %d, %v", n, err)
	}
	if n, err := db.MarkExpired(ctx, "dir", now, 2*time.Hour, 100); err != nil || n != 2 {
		t.Fatalf("a 2h limit marked %d, %v", n, err)
	}
	marked, err := db.Marked(ctx, "dir", 100)
	if err != nil || len(marked) != 2 || marked[0].ID != ids[0] || marked[1].ID != ids[1] {
		t.Fatalf("marked %+v, %v", marked, err)
	}
	if _, err := db.MarkExpired(ctx, "dir", now, -time.Hour, 100); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("negative limit: %v", err)
	}
}

func TestBytesWritten(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	seedPlans(t, db)
	addSegment(t, db, chA, "a", t0.Add(-time.Hour), t0.Add(-time.Minute), 30) // before: not counted
	addSegment(t, db, chA, "a", t0, t0.Add(time.Minute), 30)
	addSegment(t, db, chB, "b", t0.Add(time.Minute), t0.Add(2*time.Minute), 30)
	n, first, err := db.BytesWritten(ctx, "dir", t0)
	if err != nil || n != 2000 || !first.Equal(t0) {
		t.Fatalf("bytes %d since %v, %v", n, first, err)
	}
	n, first, err = db.BytesWritten(ctx, "dir", t0.Add(time.Hour))
	if err != nil || n != 0 || !first.IsZero() {
		t.Fatalf("nothing written: bytes %d since %v, %v", n, first, err)
	}
}

// TestStoresApart: every sweeper step and the write rate take only the
// rows of the store they are given — two nodes' directories are two
// stores, so one node never deletes rows whose files are on the other's
// disk.
func TestStoresApart(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	ids := map[string][]int64{}
	for i, st := range []string{"dir://a", "dir://b", "dir://a", "s3://rec/"} {
		start := t0.Add(time.Duration(i) * time.Minute)
		id, err := db.OpenSegment(ctx, recordingdb.Segment{
			ChannelID: chA, Start: start, ObjectKey: key(chA, start), Store: st, RetentionDays: 1, Node: "a",
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CloseSegment(ctx, id, start.Add(time.Minute), 100, recordingdb.Info{VideoCodec: "h264"}); err != nil {
			t.Fatal(err)
		}
		ids[st] = append(ids[st], id)
	}
	now := t0.Add(48 * time.Hour) // all expired
	for st, want := range map[string]int64{"dir://a": 200, "dir://b": 100, "s3://rec/": 100, "dir": 0} {
		if n, _, err := db.BytesWritten(ctx, st, t0); err != nil || n != want {
			t.Errorf("bytes written to %s %d, %v; want %d", st, n, err, want)
		}
	}
	if n, err := db.MarkExpired(ctx, "dir://a", now, 0, 100); err != nil || n != 2 {
		t.Fatalf("marked %d of dir://a, %v", n, err)
	}
	if m, err := db.Marked(ctx, "dir://b", 100); err != nil || len(m) != 0 {
		t.Fatalf("dir://b sees %+v marked, %v", m, err)
	}
	m, err := db.Marked(ctx, "dir://a", 100)
	if err != nil || len(m) != 2 || m[0].ID != ids["dir://a"][0] || m[1].ID != ids["dir://a"][1] {
		t.Fatalf("dir://a marked %+v, %v", m, err)
	}
	if n, err := db.SweepBacklog(ctx, "dir://b", now, 0); err != nil || n != 1 {
		t.Fatalf("backlog of dir://b %d, %v", n, err)
	}
	if n, err := db.MarkOldest(ctx, "s3://rec/", 100); err != nil || n != 1 {
		t.Fatalf("oldest of s3 %d, %v", n, err)
	}
	if m, err := db.Marked(ctx, "s3://rec/", 100); err != nil || len(m) != 1 || m[0].ID != ids["s3://rec/"][0] {
		t.Fatalf("s3 marked %+v, %v", m, err)
	}
	if _, err := db.MarkExpired(ctx, "", now, 0, 100); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("no store: %v", err)
	}
}
