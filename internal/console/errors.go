package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Sentinel errors of the package.
var (
	// ErrPlayDisabled means no play token secret is configured.
	ErrPlayDisabled = errors.New("video access disabled: set media.play_token_secret")
	// ErrExportNotReady means the export's file is not complete (yet).
	ErrExportNotReady = errors.New("export not finished")
	// ErrNoRecordings means the platform recorded nothing of the channel
	// in the range asked for.
	ErrNoRecordings = errors.New("no recordings in the range")
	// ErrRecorderUnavailable means no recorder node is live, or the one
	// asked did not answer.
	ErrRecorderUnavailable = errors.New("recorder unavailable")
	// ErrForbidden means the user's role does not allow the action.
	ErrForbidden = errors.New("not allowed for this user")
	// ErrNotOwner means a playback or export belongs to another user; the
	// API answers it like an unknown one (404).
	ErrNotOwner = errors.New("belongs to another user")
)

// Error codes of the API's error answers ({"error","code"}).
const (
	CodeBadRequest             = "bad_request"
	CodeTooLarge               = "too_large"
	CodeUnauthenticated        = "unauthenticated"
	CodeInvalidCredentials     = "invalid_credentials"
	CodeLocked                 = "locked"
	CodeTooManyAttempts        = "too_many_attempts"
	CodeAuditUnavailable       = "audit_unavailable"
	CodeCSRF                   = "csrf"
	CodePasswordChangeRequired = "password_change_required"
	CodeWrongPassword          = "wrong_password"
	CodeWeakPassword           = "weak_password"
	CodeForbidden              = "forbidden"
	CodeNotFound               = "not_found"
	CodeOffline                = "offline"
	CodeBusy                   = "busy"
	CodeConflict               = "conflict"
	CodeNotReady               = "not_ready"
	CodeDeviceRefused          = "device_refused"
	CodeTimeout                = "timeout"
	CodeSipserverUnavailable   = "sipserver_unavailable"
	CodeSipserverError         = "sipserver_error"
	CodePlayDisabled           = "play_disabled"
	CodeNoRecordings           = "no_recordings"
	CodeRecorderUnavailable    = "recorder_unavailable"
	CodeMediaUnavailable       = "media_unavailable"
	CodeInternal               = "internal"
)

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	// Error is a message for people.
	Error string `json:"error"`
	// Code is a stable machine-readable code.
	Code string `json:"code"`
}

// apiError is an answer a handler chose itself.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func newError(status int, code, format string, args ...any) error {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// classify maps err to the HTTP status, code and message of the answer.
func classify(err error) (status int, code, msg string) {
	var (
		ae     *apiError
		maxErr *http.MaxBytesError
		locked *auth.LockedError
		many   *auth.TooManyAttemptsError
		sipErr *svcapi.StatusError
	)
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.code, ae.msg
	case errors.As(err, &maxErr):
		return http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body over %d bytes", maxErr.Limit)
	case errors.As(err, &sipErr):
		// Before the code sentinels: a sipserver answer matches them by its
		// code too, but is shown with sipserver's own message.
		return classifySip(sipErr)
	case errors.Is(err, svcapi.ErrBadRequest):
		return http.StatusBadRequest, CodeBadRequest, strings.TrimPrefix(err.Error(), svcapi.ErrBadRequest.Error()+": ")
	case errors.As(err, &locked):
		return http.StatusLocked, CodeLocked, locked.Error()
	case errors.As(err, &many):
		return http.StatusTooManyRequests, CodeTooManyAttempts, many.Error()
	case errors.Is(err, auth.ErrAuditUnavailable):
		return http.StatusServiceUnavailable, CodeAuditUnavailable, auth.ErrAuditUnavailable.Error()
	case errors.Is(err, auth.ErrInvalidCredentials):
		return http.StatusUnauthorized, CodeInvalidCredentials, err.Error()
	case errors.Is(err, auth.ErrUnauthenticated):
		return http.StatusUnauthorized, CodeUnauthenticated, auth.ErrUnauthenticated.Error()
	case errors.Is(err, auth.ErrWrongPassword):
		return http.StatusBadRequest, CodeWrongPassword, err.Error()
	case errors.Is(err, auth.ErrWeakPassword):
		return http.StatusBadRequest, CodeWeakPassword, err.Error()
	case errors.Is(err, auth.ErrBusy):
		return http.StatusServiceUnavailable, CodeBusy, "too many logins at once; try again"
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden, CodeForbidden, err.Error()
	case errors.Is(err, ErrPlayDisabled):
		return http.StatusServiceUnavailable, CodePlayDisabled, err.Error()
	case errors.Is(err, ErrNoRecordings):
		return http.StatusNotFound, CodeNoRecordings, err.Error()
	case errors.Is(err, ErrRecorderUnavailable):
		// The error may name a node's internal address: the log has it.
		return http.StatusServiceUnavailable, CodeRecorderUnavailable, ErrRecorderUnavailable.Error()
	case errors.Is(err, ErrExportNotReady):
		return http.StatusConflict, CodeNotReady, err.Error()
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, CodeNotFound, err.Error()
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, CodeBadRequest, err.Error()
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrInUse), errors.Is(err, store.ErrLastAdmin):
		return http.StatusConflict, CodeConflict, err.Error()
	case errors.Is(err, svcapi.ErrUnreachable):
		// The error names sipserver's internal address: the log has it.
		return http.StatusServiceUnavailable, CodeSipserverUnavailable, "sipserver unavailable"
	}
	return http.StatusInternalServerError, CodeInternal, "internal error"
}

// classifySip maps sipserver's answer to ours by its machine code, never
// its text: the device's failures keep their meaning, sipserver's own
// trouble is a 502/503 of ours.
func classifySip(e *svcapi.StatusError) (int, string, string) {
	msg := e.Message
	if msg == "" {
		msg = strconv.Itoa(e.Code) + " " + http.StatusText(e.Code)
	}
	switch e.ErrorCode {
	case svcapi.CodeBadRequest:
		return http.StatusBadRequest, CodeBadRequest, msg
	case svcapi.CodeNotFound:
		return http.StatusNotFound, CodeNotFound, msg
	case sipapi.CodeDeviceOffline:
		return http.StatusConflict, CodeOffline, msg
	case sipapi.CodeDeviceBusy:
		return http.StatusConflict, CodeBusy, msg
	case svcapi.CodeConflict:
		return http.StatusConflict, CodeConflict, msg
	case sipapi.CodeDeviceRefused, svcapi.CodeBadGateway:
		return http.StatusBadGateway, CodeDeviceRefused, msg
	case svcapi.CodeTimeout:
		return http.StatusGatewayTimeout, CodeTimeout, msg
	case svcapi.CodeUnauthorized, svcapi.CodeUnavailable, sipapi.CodeMediaUnavailable:
		return http.StatusServiceUnavailable, CodeSipserverUnavailable, "sipserver refused the console: " + msg
	}
	switch e.Code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable:
		// An answer without one of our codes (a proxy in front of sipserver,
		// say) that refuses the console is still sipserver's unavailability.
		return http.StatusServiceUnavailable, CodeSipserverUnavailable, "sipserver refused the console: " + msg
	}
	return http.StatusBadGateway, CodeSipserverError, "sipserver: " + msg
}
