package sipserver

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// TestMediaErr: which answers of mediagw make a session fail as "media
// unavailable" (503 to sipserver's callers), and that mediagw's own codes
// never pass through as sipserver's.
func TestMediaErr(t *testing.T) {
	status := func(code int, errCode string) error {
		return fmt.Errorf("mediagw open receiver: %w", &svcapi.StatusError{Code: code, ErrorCode: errCode, Message: "x"})
	}
	for _, tc := range []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"unreachable", fmt.Errorf("mediagw open receiver: %w", svcapi.ErrUnreachable), true},
		{"token refused", status(http.StatusUnauthorized, svcapi.CodeUnauthorized), true},
		{"node failed", status(http.StatusInternalServerError, svcapi.CodeInternal), true},
		{"no ports", status(http.StatusServiceUnavailable, "no_ports"), true},
		// Still held by a session being closed: unavailable for a moment.
		{"path busy", status(http.StatusConflict, "path_busy"), true},
		{"SSRC in use", status(http.StatusConflict, "ssrc_in_use"), true},
		{"bad request", status(http.StatusBadRequest, svcapi.CodeBadRequest), false},
		{"other", errors.New("decode answer: unexpected EOF"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mediaErr(tc.err)
			if errors.Is(got, ErrMediaUnavailable) != tc.unavailable {
				t.Fatalf("mediaErr(%v) = %v; unavailable %v, want %v", tc.err, got, !tc.unavailable, tc.unavailable)
			}
			var ce *svcapi.CodeError
			if errors.As(got, &ce) {
				t.Fatalf("mediaErr(%v) = %v passes mediagw's code %q through", tc.err, got, ce.Code)
			}
		})
	}
	if mediaErr(nil) != nil {
		t.Fatal("mediaErr(nil) is not nil")
	}
}
