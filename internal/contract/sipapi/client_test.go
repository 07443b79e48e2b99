package sipapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// TestClient checks each call's method, path and body, and that sipserver's
// error codes reach the caller as sentinels whatever the text.
func TestClient(t *testing.T) {
	type seen struct{ method, uri, body string }
	var got seen
	answer := map[string]any{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.Method, r.URL.RequestURI(), string(b)}
		// A channel named for a failure answers it.
		switch path.Base(r.URL.Path) {
		case "offline":
			svcapi.WriteJSON(w, http.StatusConflict, svcapi.Error{Error: "the NVR is away", Code: sipapi.CodeDeviceOffline})
			return
		case "busy":
			svcapi.WriteJSON(w, http.StatusConflict, svcapi.Error{Error: "device rejected INVITE: 486", Code: sipapi.CodeDeviceBusy})
			return
		case "missing":
			svcapi.WriteJSON(w, http.StatusNotFound, svcapi.Error{Error: "no such channel", Code: svcapi.CodeNotFound})
			return
		}
		svcapi.WriteJSON(w, http.StatusOK, answer)
	}))
	defer srv.Close()
	c := &sipapi.Client{BaseURL: srv.URL, Token: "tok", Timeout: time.Minute}
	ctx := t.Context()
	start := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	speed := 1.5

	for _, tc := range []struct {
		name string
		call func() error
		want seen
	}{
		{
			"channel", func() error { _, err := c.Channel(ctx, "d1", "c1"); return err },
			seen{"GET", "/internal/v1/devices/d1/channels/c1", ""},
		},
		{"ptz", func() error {
			_, err := c.PTZ(ctx, "d1", "c1", sipapi.PTZRequest{Action: "move", Directions: []string{"up"}})
			return err
		}, seen{"POST", "/internal/v1/devices/d1/channels/c1/ptz", `{"action":"move","directions":["up"]}`}},
		{"lock ptz", func() error {
			_, err := c.LockPTZ(ctx, sipapi.PTZLockRequest{
				DeviceID: "d1", ChannelID: "c1",
				Controller: sipapi.PTZController{ID: "user:7", Name: "ann", Priority: 5},
			})
			return err
		}, seen{
			"POST", "/internal/v1/ptz-locks",
			`{"device_id":"d1","channel_id":"c1","controller":{"id":"user:7","name":"ann","priority":5}}`,
		}},
		{
			"records", func() error { _, err := c.Records(ctx, "d1", "c1", start, start.Add(time.Hour)); return err },
			seen{"GET", "/internal/v1/devices/d1/channels/c1/records?end=2024-05-01T09%3A00%3A00Z&start=2024-05-01T08%3A00%3A00Z", ""},
		},
		{
			"needed", func() error { return c.StreamNeeded(ctx, "live/c1") },
			seen{"POST", "/internal/v1/streams/needed", `{"path":"live/c1"}`},
		},
		{
			"idle", func() error { return c.StreamIdle(ctx, "live/c1") },
			seen{"POST", "/internal/v1/streams/idle", `{"path":"live/c1"}`},
		},
		{
			"ended", func() error { return c.StreamEnded(ctx, "live/c1", "rtp timeout") },
			seen{"POST", "/internal/v1/streams/ended", `{"path":"live/c1","reason":"rtp timeout"}`},
		},
		{"create", func() error {
			_, err := c.CreateSession(ctx, sipapi.SessionRequest{Kind: sipapi.KindPlayback, ChannelID: "c1", Start: start, End: start, Owner: "u"})
			return err
		}, seen{"POST", "/internal/v1/sessions", `{"kind":"playback","channel_id":"c1","start":"2024-05-01T08:00:00Z","end":"2024-05-01T08:00:00Z","owner":"u"}`}},
		{
			"get", func() error { _, err := c.GetSession(ctx, "s/1"); return err },
			seen{"GET", "/internal/v1/sessions/s%2F1", ""},
		},
		{
			"delete", func() error { return c.DeleteSession(ctx, "s1") },
			seen{"DELETE", "/internal/v1/sessions/s1", ""},
		},
		{
			"control", func() error {
				return c.ControlSession(ctx, "s1", sipapi.PlaybackControl{Action: "scale", Scale: &speed})
			},
			seen{"POST", "/internal/v1/sessions/s1/control", `{"action":"scale","scale":1.5}`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
			if got.method != tc.want.method || got.uri != tc.want.uri || !sameJSON(got.body, tc.want.body) {
				t.Errorf("sent %+v, want %+v", got, tc.want)
			}
		})
	}

	for _, tc := range []struct {
		fail string
		is   error
		code string
	}{
		{"offline", sipapi.ErrDeviceOffline, sipapi.CodeDeviceOffline},
		{"busy", sipapi.ErrDeviceBusy, sipapi.CodeDeviceBusy},
		{"missing", svcapi.ErrNotFound, svcapi.CodeNotFound},
	} {
		_, err := c.Channel(ctx, "d1", tc.fail)
		if !errors.Is(err, tc.is) || svcapi.CodeOf(err) != tc.code {
			t.Errorf("%s: %v (code %q), want %v", tc.fail, err, svcapi.CodeOf(err), tc.is)
		}
		for _, other := range []error{sipapi.ErrDeviceOffline, sipapi.ErrDeviceBusy, svcapi.ErrNotFound} {
			if svcapi.CodeOf(other) != tc.code && errors.Is(err, other) {
				t.Errorf("%s: also matches %v", tc.fail, other)
			}
		}
	}

	if err := (&sipapi.Client{BaseURL: srv.URL}).StreamIdle(ctx, "live/c1"); !errors.Is(err, svcapi.ErrUnreachable) {
		t.Errorf("no token: %v, want ErrUnreachable", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.StreamIdle(cancelled, "live/c1"); !errors.Is(err, svcapi.ErrUnreachable) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func sameJSON(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
