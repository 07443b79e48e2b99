package console

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// recorderCallTimeout bounds one call to a recorder node's internal API
// (a file's copy is bounded by its request instead).
const recorderCallTimeout = 30 * time.Second

// exportBody is the body of POST /exports.
type exportBody struct {
	ChannelID string `json:"channel_id"`
	Start     string `json:"start"`
	End       string `json:"end"`
	// Source is platform (the default) or device.
	Source string `json:"source"`
}

// recorder returns the client of the recorder node at baseURL.
func (a *API) recorder(baseURL string) *recorderapi.Client {
	return &recorderapi.Client{BaseURL: baseURL, Token: a.RecorderToken, HTTP: a.RecorderHTTP, Timeout: recorderCallTimeout}
}

// recorderError maps a recorder's answer to ours: its refusals of the
// request keep their meaning, anything else is the recorder's
// unavailability (the log has the whole error, the client a code).
func recorderError(err error) error {
	var se *svcapi.StatusError
	if errors.As(err, &se) {
		switch {
		case errors.Is(err, recorderapi.ErrNotDone):
			return fmt.Errorf("%s: %w", se.Message, ErrExportNotReady)
		case se.Code == http.StatusNotFound:
			return newError(http.StatusNotFound, CodeNotFound, "recorder: %s", se.Message)
		case se.Code == http.StatusBadRequest:
			return newError(http.StatusBadRequest, CodeBadRequest, "recorder: %s", se.Message)
		case se.Code == http.StatusConflict:
			return newError(http.StatusConflict, CodeConflict, "recorder: %s", se.Message)
		case se.Code == http.StatusRequestedRangeNotSatisfiable:
			return newError(http.StatusRequestedRangeNotSatisfiable, CodeBadRequest, "range not satisfiable: %s", se.Message)
		}
	}
	// Not wrapped: classify would take the recorder's StatusError for sipserver's.
	return fmt.Errorf("%w: %v", ErrRecorderUnavailable, err) //nolint:errorlint // see above
}

// createExport queues an export of a range of a channel the caller holds
// the download right on, on the freshest recorder node. The job is the
// caller's; its audit row names it (a row that cannot be written deletes
// the job again, fail closed).
func (a *API) createExport(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	var in exportBody
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	switch in.Source {
	case "":
		in.Source = sourcePlatform
	case sourcePlatform, sourceDevice:
	default:
		return badRequest("source must be platform or device, got %q", in.Source)
	}
	start, end, err := svcapi.ParseRange(in.Start, in.End)
	if err != nil {
		return err
	}
	if !end.After(start) {
		return badRequest("end must be after start")
	}
	if end.Sub(start) > recorderapi.MaxRange {
		return badRequest("the range must be at most %s", recorderapi.MaxRange)
	}
	ch, err := a.grantedChannelID(r, sess, in.ChannelID, catalogview.RightDownload)
	if err != nil {
		return err
	}
	if a.RecorderToken == "" {
		return fmt.Errorf("export: service_token is not set: %w", ErrRecorderUnavailable)
	}
	node, err := a.freshestRecorder(r.Context())
	if err != nil {
		return err
	}
	rec := a.recorder(node.URL)
	job, err := rec.CreateExport(r.Context(), recorderapi.ExportRequest{
		Owner: sess.User.Username, ChannelID: ch.ID, Source: in.Source, Start: start, End: end,
	})
	if err != nil {
		return recorderError(err)
	}
	err = a.audit(r, sess, "export", ch.ID, map[string]any{
		"export_id": job.ID, "source": in.Source, "node": node.Node,
		"start": start.UTC().Format(time.RFC3339Nano), "end": end.UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		// Nobody may have an unaudited file: the job goes again.
		if derr := rec.DeleteExport(r.Context(), job.ID); derr != nil {
			a.logger().Warn("delete unaudited export", "export_id", job.ID, "node", node.Node, "error", derr)
		}
		return err
	}
	svcapi.WriteJSON(w, http.StatusAccepted, job)
	return nil
}

// maxExportList bounds GET /exports.
const maxExportList = 500

// listExports answers the caller's own jobs on channels the caller may
// download from now, newest first; an admin's all=1 answers everyone's.
// Owner and grants are selected in SQL.
func (a *API) listExports(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	q := r.URL.Query()
	owner := sess.User.Username
	switch q.Get("all") {
	case "", "0":
	case "1":
		if sess.User.Role != store.RoleAdmin {
			err := fmt.Errorf("list every user's exports: %w", ErrForbidden)
			a.deny(r, sess, r.URL.Path, err)
			return err
		}
		owner = ""
	default:
		return badRequest("all must be 0 or 1, got %q", q.Get("all"))
	}
	limit := maxExportList
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxExportList {
			return badRequest("limit must be between 1 and %d, got %q", maxExportList, v)
		}
		limit = n
	}
	jobs, err := exportdb.New(a.Store.Store).List(r.Context(), exportdb.ListQuery{
		Owner: owner, Granted: a.scope(sess, catalogview.RightDownload), Limit: limit,
	})
	if err != nil {
		return err
	}
	svcapi.WriteList(w, jobs, len(jobs), exportdb.Job.API)
	return nil
}

// ownExport returns the export {id} of the path when it belongs to sess's
// user. An admin may act on anyone's when adminMay (forced). Anything
// else is the same 404 as an unknown export, so that nobody learns which
// exist; one that exists but is someone else's is audited as denied.
func (a *API) ownExport(r *http.Request, sess *auth.Session, adminMay bool) (j exportdb.Job, forced bool, err error) {
	id := r.PathValue("id")
	if !exportdb.ValidID(id) {
		return exportdb.Job{}, false, badRequest("bad export id %q: want 16 lowercase hex digits", id)
	}
	notFound := newError(http.StatusNotFound, CodeNotFound, "no export %s", id)
	j, err = exportdb.New(a.Store.Store).Job(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return exportdb.Job{}, false, notFound
	case err != nil:
		return exportdb.Job{}, false, err
	case j.Owner == sess.User.Username:
		return j, false, nil
	case adminMay && sess.User.Role == store.RoleAdmin:
		return j, true, nil
	}
	return exportdb.Job{}, false, a.refuse(r, sess, id, notFound,
		fmt.Errorf("export %s belongs to another user: %w", id, ErrNotOwner))
}

// grantedExport returns the caller's export {id} while the caller holds
// the download right on its channel now, not only when it was asked for:
// a right revoked since hides the job and its file (deleting stays the
// owner's).
func (a *API) grantedExport(r *http.Request, sess *auth.Session) (exportdb.Job, error) {
	j, _, err := a.ownExport(r, sess, false)
	if err != nil {
		return exportdb.Job{}, err
	}
	if err := a.stillGranted(r, sess, j.ChannelID, catalogview.RightDownload); err != nil {
		return exportdb.Job{}, err
	}
	return j, nil
}

func (a *API) getExport(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	j, err := a.grantedExport(r, sess)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, j.API())
	return nil
}

// jobNode returns the internal URL of the recorder node that holds j, or,
// for a job no node has taken yet, of the freshest one (they share the
// jobs' table).
func (a *API) jobNode(r *http.Request, j exportdb.Job) (string, error) {
	if a.RecorderToken == "" {
		return "", fmt.Errorf("export %s: service_token is not set: %w", j.ID, ErrRecorderUnavailable)
	}
	if j.Node == "" {
		n, err := a.freshestRecorder(r.Context())
		return n.URL, err
	}
	u, err := exportdb.New(a.Store.Store).NodeURL(r.Context(), j.Node)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("export %s: %w: %w", j.ID, ErrRecorderUnavailable, err)
	}
	return u, err
}

// exportFile answers a done export's MP4, fetched from the recorder node
// that holds it, Range passed through.
func (a *API) exportFile(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	j, err := a.grantedExport(r, sess)
	if err != nil {
		return err
	}
	if j.State != recorderapi.StateDone {
		return fmt.Errorf("export %s is %s: %w", j.ID, j.State, ErrExportNotReady)
	}
	base, err := a.jobNode(r, j)
	if err != nil {
		return err
	}
	detail := map[string]any{"export_id": j.ID, "bytes": j.Bytes, "node": j.Node}
	if rg := r.Header.Get("Range"); rg != "" {
		detail["range"] = rg
	}
	if err := a.audit(r, sess, "export_file", j.ChannelID, detail); err != nil {
		return err
	}
	resp, err := a.recorder(base).ExportFile(r.Context(), j.ID, r.Header.Get("Range"))
	if err != nil {
		return recorderError(err)
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Length", "Content-Range", "Accept-Ranges", "Last-Modified", "ETag"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment",
		map[string]string{"filename": j.API().FileName(time.Local)}))
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil {
		// The answer has begun: the client sees a short body.
		a.logger().Info("export file copy ended", "export_id", j.ID, "error", err)
	}
	return nil
}

// deleteExport removes an export's file (a running job stops) and marks
// it expired: its owner, or an admin (forced, audited so).
func (a *API) deleteExport(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	j, forced, err := a.ownExport(r, sess, true)
	if err != nil {
		return err
	}
	base, err := a.jobNode(r, j)
	if err != nil {
		return err
	}
	if err := a.recorder(base).DeleteExport(r.Context(), j.ID); err != nil {
		return recorderError(err)
	}
	detail := map[string]any{"export_id": j.ID, "state": j.State}
	if forced {
		detail["forced"], detail["owner"] = true, j.Owner
	}
	// A delete ends access: never held up by the audit log.
	a.note(r, sess, "export_delete", j.ChannelID, detail)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
