// Package logging builds the log/slog logger of a service from its configuration.
package logging

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/sharpeyes/sharpeyes/internal/config"
)

// New returns a logger writing to w in the configured format and level,
// with a "service" attribute on every line.
func New(cfg config.Log, service string, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", cfg.Level, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch cfg.Format {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format %q: want text or json", cfg.Format)
	}
	return slog.New(h).With("service", service), nil
}
