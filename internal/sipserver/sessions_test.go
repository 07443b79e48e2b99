package sipserver

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
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

// TestSessionErrorStatus: what the API answers (status and machine code)
// for each way a session can fail; console and mediagw switch on the codes.
func TestSessionErrorStatus(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{&RejectedError{Method: "INVITE", Code: 486, Reason: "Busy Here"}, http.StatusConflict, sipapi.CodeDeviceBusy},
		{&RejectedError{Method: "INVITE", Code: 488, Reason: "Not Acceptable Here"}, http.StatusBadGateway, sipapi.CodeDeviceRefused},
		{fmt.Errorf("x: %w", ErrOffline), http.StatusConflict, sipapi.CodeDeviceOffline},
		{fmt.Errorf("x: %w", ErrTimeout), http.StatusGatewayTimeout, svcapi.CodeTimeout},
		{fmt.Errorf("x: %w", ErrMediaUnavailable), http.StatusServiceUnavailable, sipapi.CodeMediaUnavailable},
		{mediaErr(fmt.Errorf("open: %w", svcapi.ErrUnreachable)), http.StatusServiceUnavailable, sipapi.CodeMediaUnavailable},
		{fmt.Errorf("x: %w", ErrNoSession), http.StatusNotFound, svcapi.CodeNotFound},
		{errors.New("other"), http.StatusInternalServerError, svcapi.CodeInternal},
	} {
		if got := codeOf(c.err); got.Status != c.status || got.Code != c.code {
			t.Errorf("%v: %d %s, want %d %s", c.err, got.Status, got.Code, c.status, c.code)
		}
	}
	if msg := (&RejectedError{Method: "INVITE", Code: 488, Reason: "Not Acceptable Here"}).Error(); msg !=
		"device rejected INVITE: 488 Not Acceptable Here (SDP not acceptable: transport or media the device does not support)" {
		t.Errorf("488 message %q", msg)
	}
}
