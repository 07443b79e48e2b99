package svcapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClientCall(t *testing.T) {
	// The double echoes what it got, or answers what the path asks for.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/echo":
			WriteJSON(w, http.StatusOK, map[string]string{
				"method": r.Method, "auth": r.Header.Get("Authorization"),
				"type": r.Header.Get("Content-Type"), "body": string(body),
			})
		case "/json-error":
			WriteJSON(w, http.StatusConflict, Error{"device offline", "device_offline"})
		case "/text-error":
			http.Error(w, "upstream broke", http.StatusBadGateway)
		case "/empty-error":
			w.WriteHeader(http.StatusNotFound)
		case "/no-content":
			w.WriteHeader(http.StatusNoContent)
		case "/not-json":
			_, _ = io.WriteString(w, "hello")
		}
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL + "/", Token: "tok"}

	type echo struct{ Method, Auth, Type, Body string }
	for _, tc := range []struct {
		name   string
		method string
		body   any
		want   echo
	}{
		{"no body", http.MethodGet, nil, echo{"GET", "Bearer tok", "", ""}},
		{"value", http.MethodPost, map[string]int{"a": 1}, echo{"POST", "Bearer tok", "application/json", `{"a":1}`}},
		{"raw", http.MethodPatch, json.RawMessage(`{"b":2}`), echo{"PATCH", "Bearer tok", "application/json", `{"b":2}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got echo
			if err := c.Call(t.Context(), tc.method, "/echo", tc.body, &got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("server got %+v, want %+v", got, tc.want)
			}
		})
	}

	var raw json.RawMessage
	if err := c.Call(t.Context(), http.MethodGet, "/not-json", nil, &raw); err != nil || string(raw) != "hello" {
		t.Errorf("raw answer %q %v", raw, err)
	}
	if err := c.Call(t.Context(), http.MethodDelete, "/no-content", nil, nil); err != nil {
		t.Errorf("204: %v", err)
	}
	var v struct{}
	if err := c.Call(t.Context(), http.MethodGet, "/not-json", nil, &v); err == nil || !strings.Contains(err.Error(), "decode answer") {
		t.Errorf("undecodable answer: %v", err)
	}

	offline := NewCode(http.StatusConflict, "device_offline", "device offline")
	for _, tc := range []struct {
		path    string
		code    int
		errCode string
		msg     string
		is      error
	}{
		{"/json-error", http.StatusConflict, "device_offline", "device offline", offline},
		{"/text-error", http.StatusBadGateway, CodeBadGateway, "upstream broke", nil},
		{"/empty-error", http.StatusNotFound, CodeNotFound, "", ErrNotFound},
	} {
		var se *StatusError
		err := c.Call(t.Context(), http.MethodGet, tc.path, nil, nil)
		if !errors.As(err, &se) || se.Code != tc.code || se.ErrorCode != tc.errCode || se.Message != tc.msg {
			t.Errorf("%s: %v, want %d %s %q", tc.path, err, tc.code, tc.errCode, tc.msg)
		}
		if CodeOf(err) != tc.errCode {
			t.Errorf("%s: CodeOf = %q, want %q", tc.path, CodeOf(err), tc.errCode)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v is not %v", tc.path, err, tc.is)
		}
		if errors.Is(err, ErrConflict) {
			t.Errorf("%s: matches the code conflict", tc.path)
		}
		if errors.Is(err, ErrUnreachable) {
			t.Errorf("%s: an answer is not unreachable", tc.path)
		}
	}

	var anon echo
	if err := (&Client{BaseURL: srv.URL}).Call(t.Context(), http.MethodGet, "/echo", nil, &anon); err != nil || anon.Auth != "" {
		t.Errorf("no token: %+v %v, want no Authorization", anon, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Call(ctx, http.MethodGet, "/echo", nil, nil); !errors.Is(err, ErrUnreachable) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call: %v", err)
	}
	srv.Close()
	err := c.Call(t.Context(), http.MethodGet, "/echo", nil, nil)
	if !errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), ErrUnreachable.Error()) {
		t.Errorf("server down: %v, want ErrUnreachable with the transport's own text", err)
	}
}
