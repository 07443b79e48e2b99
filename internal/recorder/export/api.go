package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Register adds the internal API's routes to mux, behind the service-token
// check; call it after Initialize. The API trusts its caller (the console) to have checked the
// user's right: it serves any owner's job.
func (r *Runner) Register(mux *http.ServeMux) {
	api := &svcapi.API{Token: r.Token, Log: r.Log}
	for _, rt := range r.routes() {
		h := rt.Handler
		mux.Handle(rt.Pattern, api.Handle(func(w http.ResponseWriter, req *http.Request) error {
			return withCode(h(w, req))
		}))
	}
}

// routes is the API's route table.
func (r *Runner) routes() []svcapi.Route {
	return []svcapi.Route{
		{Pattern: "POST " + recorderapi.PathExports, Handler: r.create},
		{Pattern: "GET " + recorderapi.PathExports + "/{id}", Handler: r.get},
		{Pattern: "GET " + recorderapi.PathExports + "/{id}/file", Handler: r.file},
		{Pattern: "DELETE " + recorderapi.PathExports + "/{id}", Handler: r.remove},
	}
}

// withCode gives the store's sentinels their machine codes.
func withCode(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, objstore.ErrNotFound):
		return svcapi.WithCode(err, svcapi.ErrNotFound)
	case errors.Is(err, store.ErrInvalid):
		return svcapi.WithCode(err, svcapi.ErrBadRequest)
	}
	return err
}

// dbContext bounds one database call of a request.
func dbContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, DefaultDBTimeout)
}

func (r *Runner) create(w http.ResponseWriter, req *http.Request) error {
	var in recorderapi.ExportRequest
	if err := svcapi.DecodeBody(req, &in); err != nil {
		return err
	}
	if err := validate(in); err != nil {
		return err
	}
	ctx, cancel := dbContext(req.Context())
	defer cancel()
	j, err := r.DB.Create(ctx, exportdb.NewJob{
		Owner: in.Owner, ChannelID: in.ChannelID, Source: in.Source, Start: in.Start, End: in.End, Created: r.Now(),
	})
	if err != nil {
		return err
	}
	r.Log.Info("export queued", "id", j.ID, "owner", j.Owner, "channel_id", j.ChannelID, "source", j.Source,
		"start", j.Start, "end", j.End)
	r.Wake()
	w.Header().Set("Location", recorderapi.ExportPath(j.ID))
	svcapi.WriteJSON(w, http.StatusCreated, j.API())
	return nil
}

// validate checks a request before it becomes a row.
func validate(in recorderapi.ExportRequest) error {
	switch {
	case in.Owner == "":
		return svcapi.BadRequest("owner is required")
	case !channelID(in.ChannelID):
		return svcapi.BadRequest("channel_id %q: want 20 digits", in.ChannelID)
	case in.Source != recorderapi.SourcePlatform && in.Source != recorderapi.SourceDevice:
		return svcapi.BadRequest("source %q: want %q or %q", in.Source, recorderapi.SourcePlatform, recorderapi.SourceDevice)
	case in.Start.IsZero() || in.End.IsZero():
		return svcapi.BadRequest("start and end are required")
	case !in.End.After(in.Start):
		return svcapi.BadRequest("end %s is not after start %s", in.End.Format(time.RFC3339), in.Start.Format(time.RFC3339))
	case in.End.Sub(in.Start) > recorderapi.MaxRange:
		return svcapi.BadRequest("range %s is longer than %s", in.End.Sub(in.Start), recorderapi.MaxRange)
	}
	return nil
}

// channelID tells whether id is a 20-digit GB/T 28181 code.
func channelID(id string) bool {
	if len(id) != 20 {
		return false
	}
	for i := range len(id) {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

func (r *Runner) get(w http.ResponseWriter, req *http.Request) error {
	ctx, cancel := dbContext(req.Context())
	defer cancel()
	j, err := r.DB.Job(ctx, req.PathValue("id"))
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, j.API())
	return nil
}

// file serves a done job's MP4, Range honoured. Only the node holding the
// file serves it (for a directory store; any node for a shared S3 store).
func (r *Runner) file(w http.ResponseWriter, req *http.Request) error {
	ctx, cancel := dbContext(req.Context())
	j, err := r.DB.Job(ctx, req.PathValue("id"))
	cancel()
	if err != nil {
		return err
	}
	if j.State != recorderapi.StateDone || j.ObjectKey == "" {
		return fmt.Errorf("export %s is %s: %w", j.ID, j.State, recorderapi.ErrNotDone)
	}
	if j.Node != r.Node && r.Store.Name() == objstore.KindDir+"://"+r.Node {
		return fmt.Errorf("export %s is held by node %s, not %s: %w", j.ID, j.Node, r.Node, svcapi.ErrNotFound)
	}
	obj, err := r.Store.Open(req.Context(), j.ObjectKey)
	if err != nil {
		return fmt.Errorf("export %s file: %w", j.ID, err)
	}
	defer obj.Close()
	w.Header().Set("Content-Type", "video/mp4")
	modified := j.CreatedAt
	if j.FinishedAt != nil {
		modified = *j.FinishedAt
	}
	http.ServeContent(w, req, j.ID+".mp4", modified, &chunkReader{obj: obj, size: obj.Size()})
	return nil
}

// chunkSize is how much chunkReader reads at once: on S3 each read of the
// object is one HTTP request, and http.ServeContent copies in 32 KiB.
const chunkSize = 1 << 20

// chunkReader reads an object in chunkSize reads, for http.ServeContent.
type chunkReader struct {
	obj  objstore.Object
	size int64
	off  int64  // the reader's position
	buf  []byte // the chunk read at bufOff
	at   int64
}

// Read implements io.Reader.
func (c *chunkReader) Read(p []byte) (int, error) {
	if c.off >= c.size {
		return 0, io.EOF
	}
	if c.off < c.at || c.off >= c.at+int64(len(c.buf)) {
		n := min(chunkSize, c.size-c.off)
		if cap(c.buf) < int(n) {
			c.buf = make([]byte, chunkSize)
		}
		c.buf = c.buf[:n]
		if _, err := c.obj.ReadAt(c.buf, c.off); err != nil && !errors.Is(err, io.EOF) {
			c.buf = c.buf[:0]
			return 0, err
		}
		c.at = c.off
	}
	n := copy(p, c.buf[c.off-c.at:])
	c.off += int64(n)
	return n, nil
}

// Seek implements io.Seeker.
func (c *chunkReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += c.off
	case io.SeekEnd:
		offset += c.size
	default:
		return 0, fmt.Errorf("seek: whence %d", whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("seek to %d", offset)
	}
	c.off = offset
	return offset, nil
}

// remove stops a job or deletes its file: the job stays, expired.
func (r *Runner) remove(w http.ResponseWriter, req *http.Request) error {
	ctx, cancel := dbContext(req.Context())
	defer cancel()
	j, err := r.DB.Expire(ctx, req.PathValue("id"), r.Now())
	if err != nil {
		return err
	}
	r.Log.Info("export deleted", "id", j.ID, "owner", j.Owner, "state", j.State, "node", j.Node)
	r.stop(j.ID)
	r.kickSweep()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
