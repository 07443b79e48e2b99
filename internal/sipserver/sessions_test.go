package sipserver

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/config"
)

func TestTransportOrder(t *testing.T) {
	for _, c := range []struct {
		def, device, channel string
		fallback             bool
		want                 []string
	}{
		{"udp", "", "", true, []string{"udp", "tcp-passive", "tcp-active"}},
		{"udp", "", "", false, []string{"udp"}},
		{"udp", "tcp-passive", "", true, []string{"tcp-passive", "udp", "tcp-active"}},
		{"udp", "tcp-passive", "tcp-active", true, []string{"tcp-active", "udp", "tcp-passive"}},
		{"tcp-active", "", "udp", false, []string{"udp"}},
	} {
		m := &sessionManager{Config: config.Sessions{Transport: c.def, Fallback: c.fallback}}
		if got := m.transports(c.channel, c.device); !slices.Equal(got, c.want) {
			t.Errorf("%+v: %v", c, got)
		}
	}
}

// TestSessionErrorStatus: what the API answers for each way a session can fail.
func TestSessionErrorStatus(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
	}{
		{&RejectedError{Method: "INVITE", Code: 486, Reason: "Busy Here"}, http.StatusConflict},
		{&RejectedError{Method: "INVITE", Code: 488, Reason: "Not Acceptable Here"}, http.StatusBadGateway},
		{fmt.Errorf("x: %w", ErrOffline), http.StatusConflict},
		{fmt.Errorf("x: %w", ErrTimeout), http.StatusGatewayTimeout},
		{fmt.Errorf("x: %w", ErrMediaUnavailable), http.StatusServiceUnavailable},
		{fmt.Errorf("x: %w", ErrNoSession), http.StatusNotFound},
		{errors.New("other"), http.StatusInternalServerError},
	} {
		if got := statusOf(c.err); got != c.code {
			t.Errorf("%v: %d, want %d", c.err, got, c.code)
		}
	}
	if msg := (&RejectedError{Method: "INVITE", Code: 488, Reason: "Not Acceptable Here"}).Error(); msg !=
		"device rejected INVITE: 488 Not Acceptable Here (SDP not acceptable: transport or media the device does not support)" {
		t.Errorf("488 message %q", msg)
	}
}
