package gbsim

import "errors"

var (
	// ErrConfig is returned for an invalid configuration.
	ErrConfig = errors.New("gbsim: invalid configuration")
	// ErrClosed is returned when a device's SIP endpoint is closed.
	ErrClosed = errors.New("gbsim: endpoint closed")
	// ErrSimClosed is returned by Run after Close.
	ErrSimClosed = errors.New("gbsim: simulator closed")
	// ErrNotConnected is returned by Rebind and Unregister for a device
	// that has no SIP transport open (not started, or between attempts).
	ErrNotConnected = errors.New("gbsim: device not connected")
	// ErrAuth is returned when the platform keeps rejecting a registration.
	ErrAuth = errors.New("gbsim: registration rejected")
	// ErrTimeout is returned when the platform does not answer a request.
	ErrTimeout = errors.New("gbsim: request timed out")
	// ErrUnknownChannel is returned by Answer for a channel no device has.
	ErrUnknownChannel = errors.New("gbsim: unknown channel")
	// ErrUnknownDevice is returned by Unregister for a device the simulator does not run.
	ErrUnknownDevice = errors.New("gbsim: unknown device")
	// ErrNoSession is returned by Hangup for a channel without a media session.
	ErrNoSession = errors.New("gbsim: no media session on the channel")

	// ErrUnsupportedOffer is returned for an INVITE offer the device cannot serve.
	ErrUnsupportedOffer = errors.New("gbsim: unsupported SDP offer")
)
