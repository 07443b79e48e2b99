package console

import (
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

func (a *API) download(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if a.Signer == nil {
		return ErrPlayDisabled
	}
	if a.Downloads == nil {
		return newError(http.StatusServiceUnavailable, CodePlayDisabled, "downloads are disabled")
	}
	var in rangeBody
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	start, end, err := in.parse()
	if err != nil {
		return err
	}
	switch in.Speed {
	case 0:
		in.Speed = 1
	case 1, 2, 4, 8:
	default:
		return badRequest("speed must be 1, 2, 4 or 8, got %d", in.Speed)
	}
	ch, err := a.grantedChannel(r, sess, catalogview.RightDownload)
	if err != nil {
		return err
	}
	// The row is written once sipserver made the session and before ffmpeg reads it.
	st, err := a.Downloads.Start(r.Context(), sess.User.Username, ch, start, end, in.Speed, func(st DownloadStatus) error {
		return a.audit(r, sess, "download", ch.ID, map[string]any{
			"download_id": st.ID, "session_id": st.SessionID,
			"start": start.UTC().Format(time.RFC3339), "end": end.UTC().Format(time.RFC3339), "speed": in.Speed,
		})
	})
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusAccepted, map[string]any{"id": st.ID, "state": st.State})
	return nil
}

func (a *API) getDownload(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	st, err := a.grantedDownload(r, sess)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, st)
	return nil
}

// deleteDownload stops a running download or removes a finished one's file:
// its owner, or an admin (forced, audited).
func (a *API) deleteDownload(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	st, forced, err := a.ownDownload(r, sess, true)
	if err != nil {
		return err
	}
	if err := a.Downloads.Remove(st.ID); err != nil {
		return err
	}
	detail := map[string]any{"download_id": st.ID, "session_id": st.SessionID, "state": st.State}
	if forced {
		detail["forced"], detail["owner"] = true, st.User
	}
	a.note(r, sess, "download_delete", st.ChannelID, detail)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// grantedDownload returns the download {id} when it is sess's user's and
// the user holds the download right on its channel now, not only when the
// download began: a right revoked since hides the status and the file
// (deleting stays the owner's).
func (a *API) grantedDownload(r *http.Request, sess *auth.Session) (DownloadStatus, error) {
	st, _, err := a.ownDownload(r, sess, false)
	if err != nil {
		return DownloadStatus{}, err
	}
	if err := a.stillGranted(r, sess, st.ChannelID, catalogview.RightDownload); err != nil {
		return DownloadStatus{}, err
	}
	return st, nil
}

func (a *API) downloadFile(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	st, err := a.grantedDownload(r, sess)
	if err != nil {
		return err
	}
	if st.State != DownloadDone {
		return fmt.Errorf("download %s is %s: %w", st.ID, st.State, ErrDownloadNotReady)
	}
	f, info, err := a.Downloads.Open(st.ID)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := a.audit(r, sess, "download_file", st.ChannelID, map[string]any{"download_id": st.ID, "bytes": info.Size()}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": st.FileName()}))
	http.ServeContent(w, r, "", info.ModTime(), f)
	return nil
}
