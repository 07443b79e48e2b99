package cli_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/cli"
	"github.com/sharpeyes/sharpeyes/internal/config"
)

func TestMainExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("log:\n  level: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := func(context.Context, *config.Mediagw, *slog.Logger) error { return nil }
	fail := func(context.Context, *config.Mediagw, *slog.Logger) error { return errors.New("boom") }
	for _, tc := range []struct {
		name     string
		args     []string
		run      cli.RunFunc[config.Mediagw]
		code     int
		inStdout string
		inStderr string
	}{
		{"runs", nil, ok, 0, "", "msg=stopped"},
		{"run fails", nil, fail, 1, "", "boom"},
		{"print config", []string{"-print-config"}, fail, 0, "listen: :8888", ""},
		{"version", []string{"-version"}, fail, 0, "mediagw ", ""},
		{"help", []string{"-h"}, fail, 0, "", "SHARPEYES_HTTP_LISTEN"},
		{"bad flag", []string{"-nope"}, fail, 2, "", "flag provided but not defined"},
		{"stray arg", []string{"extra"}, fail, 2, "", "unexpected arguments"},
		{"bad config", []string{"-config", bad}, fail, 2, "", "log.level"},
		{"missing config", []string{"-config", bad + ".nope"}, fail, 2, "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli.Main("mediagw", tc.args, &stdout, &stderr, tc.run)
			if code != tc.code || !strings.Contains(stdout.String(), tc.inStdout) || !strings.Contains(stderr.String(), tc.inStderr) {
				t.Fatalf("code %d\nstdout %q\nstderr %q", code, stdout.String(), stderr.String())
			}
		})
	}
}
