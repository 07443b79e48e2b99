package repair_test

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/recorder/repair"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// writeSegment writes seconds of an H.264 clip into the store's local file
// of key, in fragments of 500 ms, and returns the file's path, size and
// the duration of its fragments.
func writeSegment(t *testing.T, st objstore.Store, key string, seconds int) (string, int64, time.Duration) {
	t.Helper()
	clip := mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2)
	tracks, err := segment.NewTracks(&description.Session{Medias: []*description.Media{{
		Type: description.MediaTypeVideo, Formats: []format.Format{&format.H264{PayloadTyp: 96, PacketizationMode: 1}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	path, err := st.WritePath(key)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &segment.Writer{W: f, Tracks: tracks, FragmentDuration: 500 * time.Millisecond}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	for i := range seconds * clip.FPS {
		u := clip.Units[i%len(clip.Units)]
		var au [][]byte
		for n := range ps.NALUnits(u.Payload) {
			au = append(au, n)
		}
		if err := w.WriteVideo(tracks[0], int64(i)*90000/int64(clip.FPS), au); err != nil {
			t.Fatal(err)
		}
	}
	// No Close: the writer "crashed" with its last fragment unwritten.
	return path, w.Bytes(), w.Duration()
}

func duration(t *testing.T, path string) time.Duration {
	t.Helper()
	bin := testsupport.Tool(t, "ffprobe", "ffmpeg")
	out, err := exec.Command(bin, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	s, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(s * float64(time.Second))
}

// TestNode: a node killed mid-segment left a segment with a torn last
// fragment and one with nothing playable; repair keeps the complete
// fragments of the first (indexed, playable) and removes the second, and
// records the recorder_down gaps up to now.
func TestNode(t *testing.T) {
	ctx := context.Background()
	db := recordingdb.New(storetest.Open(t, pgtest.NewDB(t), 4))
	root := t.TempDir()
	st, err := objstore.New(ctx, objstore.Config{Kind: objstore.KindDir, Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	now := start.Add(time.Minute)

	const torn, empty = "34020000001320000001", "34020000001320000002"
	path, size, written := writeSegment(t, st, torn+"/2026/12/07/010000.000.mp4", 3)
	// Half a fragment more, as a kill -9 in the middle of a write leaves it.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{0, 0, 0x10, 0, 'm', 'o', 'o', 'f', 1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	emptyPath, err := st.WritePath(empty + "/2026/12/07/010000.000.mp4")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(emptyPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, ch := range []string{torn, empty} {
		id, err := db.OpenSegment(ctx, recordingdb.Segment{
			ChannelID: ch, Start: start, End: start.Add(time.Second), ObjectKey: ch + "/2026/12/07/010000.000.mp4",
			Store: st.Name(), Info: recordingdb.Info{VideoCodec: "h264"}, RetentionDays: 30, Node: "rec-a",
		})
		if err != nil {
			t.Fatal(err)
		}
		ids[ch] = id
	}

	down, err := repair.Node(ctx, st, db, "rec-a", now, slog.New(slog.DiscardHandler))
	if err != nil || len(down) != 2 {
		t.Fatalf("repair: %v %v", down, err)
	}
	seg, err := db.Segment(ctx, ids[torn])
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The complete fragments are kept, the torn one is cut off.
	if seg.Open || seg.Bytes != size || fi.Size() != size || seg.End.Sub(seg.Start) != written || written < 2*time.Second {
		t.Fatalf("repaired: open %v bytes %d (written %d, file %d) duration %v (written %v)",
			seg.Open, seg.Bytes, size, fi.Size(), seg.End.Sub(seg.Start), written)
	}
	if d := duration(t, path); d != seg.End.Sub(seg.Start) {
		t.Errorf("ffprobe finds %v, the index %v", d, seg.End.Sub(seg.Start))
	}
	if _, err := db.Segment(ctx, ids[empty]); err == nil {
		t.Error("the segment with nothing playable is still indexed")
	}
	if _, err := os.Stat(emptyPath); !os.IsNotExist(err) {
		t.Errorf("its file: %v", err)
	}
	for ch, from := range map[string]time.Time{torn: seg.End, empty: start} {
		gaps, err := db.OpenGaps(ctx, ch)
		if err != nil || len(gaps) != 0 {
			t.Fatalf("open gaps of %s: %v %v", ch, gaps, err)
		}
		tl, err := db.Timeline(ctx, ch, start, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(tl.Gaps) != 1 || !tl.Gaps[0].Start.Equal(from) || !tl.Gaps[0].End.Equal(now) || tl.Gaps[0].Cause != recordingdb.CauseRecorderDown {
			t.Errorf("gaps of %s: %+v, want recorder_down %v–%v", ch, tl.Gaps, from, now)
		}
	}
	// Repairing again finds nothing to do.
	if down, err := repair.Node(ctx, st, db, "rec-a", now, slog.New(slog.DiscardHandler)); err != nil || len(down) != 0 {
		t.Fatal(down, err)
	}
}
