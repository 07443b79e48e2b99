package config

import (
	"errors"
	"net/url"
	"slices"
	"time"
)

// Media transports of a session, as mediagw's receivers name them.
var mediaTransports = []string{"udp", "tcp-passive", "tcp-active"}

// Sessions configures sipserver's media sessions: INVITE dialogs whose media
// goes to a mediagw node.
type Sessions struct {
	// MediagwURL is the control API of the mediagw node that receives the
	// media (authenticated with the service token).
	MediagwURL string `yaml:"mediagw_url"`
	// Transport is the default media transport: udp, tcp-passive (the device
	// connects to us) or tcp-active (we connect to the device). A device's or
	// channel's own setting overrides it.
	Transport string `yaml:"transport"`
	// Fallback tries the other transports when a device refuses an offer
	// with 488 (not acceptable here) or 415.
	Fallback bool `yaml:"fallback"`
	// SharedUDP receives UDP media on mediagw's shared port (told apart by
	// SSRC) instead of a port per stream.
	SharedUDP bool `yaml:"shared_udp"`
	// InviteTimeout bounds the wait for the device's final answer to an
	// INVITE; after it the INVITE is cancelled (CANCEL).
	InviteTimeout Duration `yaml:"invite_timeout"`
	// ReconcileInterval is how often sessions are compared with mediagw's
	// receivers, ending orphans on either side.
	ReconcileInterval Duration `yaml:"reconcile_interval"`
	// MediaNodeGrace is how long mediagw may fail its health check before
	// every session whose media goes there is hung up (BYE), so that no
	// camera streams to a node that is down.
	MediaNodeGrace Duration `yaml:"media_node_grace"`
}

func (s *Sessions) setDefaults() {
	*s = Sessions{
		MediagwURL:        "http://127.0.0.1:8888",
		Transport:         "udp",
		Fallback:          true,
		InviteTimeout:     Duration(8 * time.Second),
		ReconcileInterval: Duration(5 * time.Second),
		MediaNodeGrace:    Duration(5 * time.Second),
	}
}

func (s Sessions) validate() error {
	var errs []error
	if u, err := url.Parse(s.MediagwURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fieldErr("sessions.mediagw_url", "must be an http(s) URL, got %q", s.MediagwURL))
	}
	if !slices.Contains(mediaTransports, s.Transport) {
		errs = append(errs, fieldErr("sessions.transport", "must be udp, tcp-passive or tcp-active, got %q", s.Transport))
	}
	if s.InviteTimeout < Duration(time.Second) || s.InviteTimeout > Duration(time.Minute) {
		errs = append(errs, fieldErr("sessions.invite_timeout", "must be 1s–1m, got %s", s.InviteTimeout))
	}
	if s.ReconcileInterval < Duration(time.Second) {
		errs = append(errs, fieldErr("sessions.reconcile_interval", "must be at least 1s, got %s", s.ReconcileInterval))
	}
	if s.MediaNodeGrace < Duration(time.Second) || s.MediaNodeGrace > Duration(5*time.Minute) {
		errs = append(errs, fieldErr("sessions.media_node_grace", "must be 1s–5m, got %s", s.MediaNodeGrace))
	}
	return errors.Join(errs...)
}
