package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// prewarmTimeout bounds the background stream start of a play call.
const prewarmTimeout = 20 * time.Second

// playJSON is the answer of play and playback: where the stream is and how long the token lasts.
type playJSON struct {
	SessionID string     `json:"session_id,omitempty"`
	Path      string     `json:"path"`
	WHEP      string     `json:"whep"`
	HLS       string     `json:"hls"`
	RTSP      string     `json:"rtsp"`
	Expires   string     `json:"expires"`
	Start     *time.Time `json:"start,omitempty"`
	End       *time.Time `json:"end,omitempty"`
}

// mint issues a play token for exactly path with right and builds the URLs.
func (a *API) mint(path, right, subject string) (playJSON, error) {
	tok, exp, err := a.issue(path, right, subject, a.PlayTokenTTL)
	if err != nil {
		return playJSON{}, err
	}
	q := "?token=" + url.QueryEscape(tok)
	escaped := escapePath(path)
	base := strings.TrimRight(a.PublicURL, "/")
	return playJSON{
		Path:    path,
		WHEP:    base + "/whep/" + escaped + q,
		HLS:     base + "/hls/" + escaped + "/index.m3u8" + q,
		RTSP:    strings.TrimRight(a.RTSPURL, "/") + "/" + escaped + q,
		Expires: exp.UTC().Format(time.RFC3339),
	}, nil
}

// issue signs a play token for exactly path with right, valid for ttl.
func (a *API) issue(path, right, subject string, ttl time.Duration) (string, time.Time, error) {
	if a.Signer == nil {
		return "", time.Time{}, ErrPlayDisabled
	}
	now := a.now()
	exp := now.Add(ttl)
	tok, err := a.Signer.Issue(playtoken.Claims{
		Subject: subject, Paths: []string{path}, Rights: []string{right},
		Expires: exp.Unix(), IssuedAt: now.Unix(),
	})
	return tok, exp, err
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func (a *API) play(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if a.Signer == nil {
		return ErrPlayDisabled
	}
	ch, err := a.grantedChannel(r, sess, catalogview.RightLive)
	if err != nil {
		return err
	}
	path := streampath.Live(ch.ID)
	// Audited before the token exists: no unaudited access (fail closed).
	if err := a.audit(r, sess, "play", ch.ID, map[string]any{"path": path, "device_id": ch.DeviceID}); err != nil {
		return err
	}
	out, err := a.mint(path, playtoken.RightLive, sess.User.Username)
	if err != nil {
		return err
	}
	a.prewarm(path)
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// prewarm asks sipserver for the stream in the background, so that the
// device is already being invited while the browser sets up WebRTC; mediagw
// would ask too once the WHEP request arrives. Errors are only logged: the
// viewer sees them from mediagw.
func (a *API) prewarm(path string) {
	if a.Sip == nil || a.bgCtx == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// Started under the lock Close takes first: no goroutine after Close's Wait.
	if a.closed || a.warming[path] {
		return
	}
	a.warming[path] = true
	a.wg.Go(func() {
		defer func() {
			a.mu.Lock()
			delete(a.warming, path)
			a.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(a.bgCtx, prewarmTimeout)
		defer cancel()
		if err := a.Sip.StreamNeeded(ctx, path); err != nil && a.bgCtx.Err() == nil {
			a.logger().Info("stream pre-start failed", "path", path, "error", err)
		}
	})
}

func (a *API) stop(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	var in struct {
		Force bool `json:"force"`
	}
	if err := input.ReadJSON(r.Body, &in, true); err != nil {
		return err
	}
	// Stopping needs only sight of the camera: a stop ends access.
	ch, err := a.grantedChannel(r, sess, "")
	if err != nil {
		return err
	}
	path := streampath.Live(ch.ID)
	if in.Force && sess.User.Role != store.RoleAdmin {
		err := fmt.Errorf("force stop: %w", ErrForbidden)
		a.deny(r, sess, ch.ID, err)
		return err
	}
	// A stop is never held up by the audit log: it ends access.
	a.note(r, sess, "stop", ch.ID, map[string]any{"path": path, "force": in.Force})
	if in.Force {
		// Ends the shared session for every viewer now; without force the
		// stream ends by itself when mediagw sees no viewer.
		if err := a.Sip.StreamIdle(r.Context(), path); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
