package svcapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Machine codes every internal API shares ({"error","code"} answers). A
// contract package adds its own (sipapi.CodeDeviceOffline, …); callers switch
// on codes, never on the English text.
const (
	CodeBadRequest   = "bad_request"
	CodeUnauthorized = "unauthorized"
	CodeNotFound     = "not_found"
	CodeConflict     = "conflict"
	CodeTooLarge     = "too_large"
	CodeUnavailable  = "unavailable"
	CodeTimeout      = "timeout"
	CodeBadGateway   = "bad_gateway"
	CodeInternal     = "internal"
)

// CodeError is an error with a machine code and the HTTP status a service
// answers it with. Sentinel values (ErrBadRequest, sipapi.ErrDeviceOffline)
// are wrapped by the errors a handler returns; on the client side a
// StatusError unwraps to one, so errors.Is matches the sentinel of the
// answer's code whatever its text.
type CodeError struct {
	// Status is the HTTP status of the answer.
	Status int
	// Code is the stable snake_case machine code.
	Code string
	// Message is the text for people.
	Message string
}

// NewCode returns a sentinel CodeError.
func NewCode(status int, code, message string) *CodeError {
	return &CodeError{Status: status, Code: code, Message: message}
}

// Error implements error.
func (e *CodeError) Error() string { return e.Message }

// Is reports whether target is a CodeError of the same code: the code, not
// the pointer or the text, is what both sides of the wire share.
func (e *CodeError) Is(target error) bool {
	t, ok := target.(*CodeError)
	return ok && t.Code == e.Code
}

// Sentinel errors of the shared codes.
var (
	// ErrBadRequest is wrapped by errors a service answers with 400.
	ErrBadRequest = NewCode(http.StatusBadRequest, CodeBadRequest, "bad request")
	// ErrNotFound is an unknown resource (404).
	ErrNotFound = NewCode(http.StatusNotFound, CodeNotFound, "not found")
	// ErrConflict is a request the resource's state refuses (409).
	ErrConflict = NewCode(http.StatusConflict, CodeConflict, "conflict")
	// ErrUnavailable is a service that cannot serve now (503).
	ErrUnavailable = NewCode(http.StatusServiceUnavailable, CodeUnavailable, "unavailable")
	// ErrTimeout is a peer that did not answer in time (504).
	ErrTimeout = NewCode(http.StatusGatewayTimeout, CodeTimeout, "timeout")
	// ErrInternal is a failure of the service itself (500).
	ErrInternal = NewCode(http.StatusInternalServerError, CodeInternal, "internal error")
)

// codeOfStatus is the shared code of an HTTP status, for errors a service
// maps to a status alone (API.Status) and answers of peers without a code.
func codeOfStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return CodeBadRequest
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusConflict:
		return CodeConflict
	case http.StatusRequestEntityTooLarge:
		return CodeTooLarge
	case http.StatusServiceUnavailable:
		return CodeUnavailable
	case http.StatusGatewayTimeout:
		return CodeTimeout
	case http.StatusBadGateway:
		return CodeBadGateway
	}
	return CodeInternal
}

// codedError is an error given a code without changing its text.
type codedError struct {
	code *CodeError
	err  error
}

func (e *codedError) Error() string   { return e.err.Error() }
func (e *codedError) Unwrap() []error { return []error{e.code, e.err} }

// WithCode returns err answered as code (its status and machine code) with
// err's own text; errors.Is(…, code) and errors.Is(…, err's sentinels) both
// hold. A nil err stays nil.
func WithCode(err error, code *CodeError) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// CodeOf returns the machine code of err: the code of the CodeError it
// wraps (a service's sentinel, or a peer's answer), "" when it has none.
func CodeOf(err error) string {
	var ce *CodeError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}

// BadRequest returns an error wrapping ErrBadRequest.
func BadRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}
