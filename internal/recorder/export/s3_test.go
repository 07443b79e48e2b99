package export

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/objstore/miniotest"
)

// TestS3Export: segments in a real MinIO, the file written back to it and
// served through the internal API in 1 MiB reads, Range honoured.
func TestS3Export(t *testing.T) {
	srv := miniotest.Start(t)
	bucket := srv.Bucket(t, "recordings")
	st, err := objstore.New(context.Background(), srv.Config(bucket, filepath.Join(t.TempDir(), "spool")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	db := openDB(t)
	data := segmentBytes(t, time.Minute)
	addSegment(t, db, st, chA, t0, time.Minute, data)
	addSegment(t, db, st, chA, t0.Add(time.Minute), time.Minute, data)
	r := newRunner(t, db, st, &clock{now: t0})
	api := httptest.NewServer(r.Handler())
	t.Cleanup(api.Close)
	cl := &recorderapi.Client{BaseURL: api.URL, Token: "service-token", Timeout: time.Minute}
	ctx := context.Background()

	e, err := cl.CreateExport(ctx, recorderapi.ExportRequest{
		Owner: "alice", ChannelID: chA, Source: recorderapi.SourcePlatform, Start: t0.Add(30 * time.Second), End: t0.Add(90 * time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	j := waitJob(t, db, r, e.ID)
	if j.State != recorderapi.StateDone {
		t.Fatalf("job %+v", j)
	}
	if got, _ := probe(t, st, j.ObjectKey); got < time.Minute-frame || got > time.Minute+frame {
		t.Errorf("ffprobe finds %v, want 1m", got)
	}
	resp, err := cl.ExportFile(ctx, e.ID, "bytes=1000-")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != j.Bytes-1000 || resp.StatusCode != 206 {
		t.Errorf("range read %d of %d bytes (%d): %v", n, j.Bytes-1000, resp.StatusCode, err)
	}
}
