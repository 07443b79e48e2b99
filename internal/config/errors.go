package config

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid configuration")

// FieldError says which key is wrong and why.
type FieldError struct {
	// Key is the dotted YAML path of the setting, e.g. "log.level".
	Key string
	// Reason says what is wrong with the value.
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %s", e.Key, e.Reason)
}

// Unwrap lets errors.Is match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(key, format string, args ...any) error {
	return &FieldError{Key: key, Reason: fmt.Sprintf(format, args...)}
}
