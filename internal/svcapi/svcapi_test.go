package svcapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var (
	errTeapot  = errors.New("teapot")
	errOffline = NewCode(http.StatusConflict, "device_offline", "device offline")
)

func TestAPI(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) error {
		var body struct{ A int }
		if err := DecodeBody(r, &body); err != nil {
			return err
		}
		switch body.A {
		case 1:
			return BadRequest("a is %d", body.A)
		case 2:
			return errTeapot
		case 3:
			return errors.New("boom")
		case 4:
			return fmt.Errorf("device 7: %w", errOffline)
		case 5:
			return WithCode(errTeapot, ErrTimeout)
		}
		WriteJSON(w, http.StatusOK, body)
		return nil
	}
	status := func(err error) int {
		if errors.Is(err, errTeapot) {
			return http.StatusTeapot
		}
		return http.StatusInternalServerError
	}
	cases := []struct {
		name, token, header, body string
		want                      int
		msg, code                 string
	}{
		{"disabled", "", "Bearer x", `{}`, 503, "disabled", CodeUnavailable},
		{"no token", "secret-secret-secret", "", `{}`, 401, "service token", CodeUnauthorized},
		{"wrong token", "secret-secret-secret", "Bearer nope", `{}`, 401, "service token", CodeUnauthorized},
		{"ok", "secret-secret-secret", "Bearer secret-secret-secret", `{"A":0}`, 200, `"A":0`, ""},
		{"bad JSON", "secret-secret-secret", "Bearer secret-secret-secret", `{`, 400, "invalid JSON body", CodeBadRequest},
		{"unknown field", "secret-secret-secret", "Bearer secret-secret-secret", `{"B":1}`, 400, "unknown field", CodeBadRequest},
		{"bad request", "secret-secret-secret", "Bearer secret-secret-secret", `{"A":1}`, 400, "bad request: a is 1", CodeBadRequest},
		{"service status", "secret-secret-secret", "Bearer secret-secret-secret", `{"A":2}`, 418, "teapot", CodeInternal},
		{"internal", "secret-secret-secret", "Bearer secret-secret-secret", `{"A":3}`, 500, "boom", CodeInternal},
		{"sentinel code", "secret-secret-secret", "Bearer secret-secret-secret", `{"A":4}`, 409, "device 7: device offline", "device_offline"},
		{"with code", "secret-secret-secret", "Bearer secret-secret-secret", `{"A":5}`, 504, "teapot", CodeTimeout},
		{"too large", "secret-secret-secret", "Bearer secret-secret-secret", `{"A":` + strings.Repeat("1", MaxBody) + `}`, 413, "too large", CodeTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := &API{Token: c.token, Status: status, Log: slog.New(slog.DiscardHandler)}
			req := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(c.body))
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			rec := httptest.NewRecorder()
			api.Handle(h).ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != c.want || !strings.Contains(string(body), c.msg) {
				t.Fatalf("%d %s, want %d with %q", rec.Code, body, c.want, c.msg)
			}
			var e Error
			if c.code != "" && (json.Unmarshal(body, &e) != nil || e.Code != c.code || e.Error == "") {
				t.Fatalf("answer %s, want code %q", body, c.code)
			}
			if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}
