package console

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// sseWriteTimeout bounds one write to a client: a stuck connection is closed.
const sseWriteTimeout = 10 * time.Second

func (a *API) events(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if a.Events == nil {
		return newError(http.StatusServiceUnavailable, CodeInternal, "events are not available")
	}
	rc := http.NewResponseController(w)
	v := Viewer{Username: sess.User.Username, Admin: sess.User.Role == store.RoleAdmin}
	if !v.Admin {
		// Status and session events only of the cameras the user may see.
		v.Catalog = func() ViewerCatalog { return a.catalog(sess, "") }
	}
	sub := a.Events.subscribe(v)
	defer a.Events.unsubscribe(sub)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	write := func(format string, args ...any) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// retry: how long the browser waits before reconnecting.
	if !write("retry: 3000\n: connected\n\n") {
		return nil
	}
	ping := time.NewTicker(a.Events.PingInterval)
	defer ping.Stop()
	// The stream ends with the login: at its expiry, and at the first ping
	// after a logout or a password change ended it.
	expired := time.NewTimer(time.Until(sess.ExpiresAt))
	defer expired.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-expired.C:
			return nil
		case ev, ok := <-sub.ch:
			if !ok {
				return nil // dropped as too slow, or the console stops
			}
			if !write("event: %s\ndata: %s\n\n", ev.Name, ev.Data) {
				return nil
			}
		case <-ping.C:
			if err := a.Auth.Valid(r.Context(), *sess); err != nil {
				if !errors.Is(err, auth.ErrUnauthenticated) {
					a.logger().Warn("check the session of an event stream", "username", sess.User.Username, "error", err)
				}
				return nil
			}
			if !write(": ping\n\n") {
				return nil
			}
		}
	}
}
