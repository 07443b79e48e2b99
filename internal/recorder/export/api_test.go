package export

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// TestAPI drives the internal API through recorderapi.Client: create, get,
// the file with a Range, delete. The API serves any owner's job to the
// holder of the service token: the console filters by owner.
func TestAPI(t *testing.T) {
	db, st := openDB(t), newStore(t)
	addSegment(t, db, st, chA, t0, time.Minute, segmentBytes(t, time.Minute))
	c := &clock{now: t0}
	r := newRunner(t, db, st, c)
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	ctx := context.Background()

	for name, token := range map[string]string{"no token": "", "wrong token": "nope"} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+recorderapi.ExportPath("0123456789abcdef"), nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
		})
	}

	cl := &recorderapi.Client{BaseURL: srv.URL, Token: "service-token", Timeout: time.Minute}
	for _, bad := range []recorderapi.ExportRequest{
		{ChannelID: chA, Source: "platform", Start: t0, End: t0.Add(time.Minute)},
		{Owner: "alice", ChannelID: "123", Source: "platform", Start: t0, End: t0.Add(time.Minute)},
		{Owner: "alice", ChannelID: chA, Source: "cloud", Start: t0, End: t0.Add(time.Minute)},
		{Owner: "alice", ChannelID: chA, Source: "platform", Start: t0, End: t0},
		{Owner: "alice", ChannelID: chA, Source: "platform", Start: t0, End: t0.Add(25 * time.Hour)},
	} {
		if _, err := cl.CreateExport(ctx, bad); !errors.Is(err, svcapi.ErrBadRequest) {
			t.Errorf("%+v: %v, want bad_request", bad, err)
		}
	}

	e, err := cl.CreateExport(ctx, recorderapi.ExportRequest{
		Owner: "alice", ChannelID: chA, Source: recorderapi.SourcePlatform, Start: t0, End: t0.Add(20 * time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.Owner != "alice" || e.ChannelID != chA || !e.Start.Equal(t0) || !e.CreatedAt.Equal(t0) || len(e.ID) != 16 {
		t.Fatalf("created %+v", e)
	}
	// Any owner's job: the console asks on behalf of whoever it checked.
	waitJob(t, db, r, e.ID)
	got, err := cl.Export(ctx, e.ID)
	if err != nil || got.State != recorderapi.StateDone || got.Owner != "alice" || got.Bytes == 0 || got.FinishedAt == nil {
		t.Fatalf("get %+v %v", got, err)
	}
	if _, err := cl.Export(ctx, "0123456789abcdef"); !errors.Is(err, svcapi.ErrNotFound) {
		t.Errorf("unknown job: %v", err)
	}
	if _, err := cl.Export(ctx, "../../etc"); !errors.Is(err, svcapi.ErrNotFound) {
		t.Errorf("garbage id: %v", err)
	}

	resp, err := cl.ExportFile(ctx, e.ID, "bytes=0-7")
	if err != nil {
		t.Fatal(err)
	}
	head, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Type") != "video/mp4" ||
		len(head) != 8 || string(head[4:8]) != "ftyp" {
		t.Errorf("range answer %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), head)
	}
	resp, err = cl.ExportFile(ctx, e.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n != got.Bytes {
		t.Errorf("file of %d bytes, job says %d", n, got.Bytes)
	}

	if err := cl.DeleteExport(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	gone := func() bool {
		j, err := db.Job(ctx, e.ID)
		return err == nil && j.State == recorderapi.StateExpired && j.ObjectKey == ""
	}
	waitFor(t, "the deleted export's file removed", gone)
	if resp, err := cl.ExportFile(ctx, e.ID, ""); !errors.Is(err, recorderapi.ErrNotDone) {
		if err == nil {
			resp.Body.Close()
		}
		t.Errorf("file of a deleted job: %v", err)
	}
	if err := cl.DeleteExport(ctx, "0123456789abcdef"); !errors.Is(err, svcapi.ErrNotFound) {
		t.Errorf("delete unknown: %v", err)
	}
	if !strings.HasPrefix(recorderapi.ExportFilePath("x"), recorderapi.PathExports) {
		t.Error("paths")
	}
}

// TestAPIDisabled: without a service token the API answers 503.
func TestAPIDisabled(t *testing.T) {
	db, st := openDB(t), newStore(t)
	r := newRunner(t, db, st, &clock{now: t0})
	r.Token = ""
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL+recorderapi.PathExports, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", resp.StatusCode)
	}
}
