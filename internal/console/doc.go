// Package console is the operators' service: the public API under /api/v1
// (login, devices, channels, the tree, live play with signed play tokens,
// PTZ, device recordings, playback, downloads and server-sent events) and
// the web UI (package web). Users and sessions live in PostgreSQL (package
// auth); device control goes to sipserver's internal API; video flows from
// mediagw straight to the browser.
package console
