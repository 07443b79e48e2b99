package sipapi

import (
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Machine codes of sipserver's answers beside svcapi's shared ones
// (bad_request, not_found, unauthorized, timeout, unavailable, …).
const (
	// CodeDeviceOffline: the device is not registered now (409).
	CodeDeviceOffline = "device_offline"
	// CodeDeviceBusy: the device serves no more streams (409; SIP 486/600).
	CodeDeviceBusy = "device_busy"
	// CodeDeviceRefused: the device answered the request with a SIP error (502).
	CodeDeviceRefused = "device_refused"
	// CodeMediaUnavailable: no mediagw node could take the stream (503).
	CodeMediaUnavailable = "media_unavailable"
)

// Sentinel errors of sipserver's codes: sipserver's handlers answer errors
// wrapping them, and the Client's errors match them with errors.Is.
var (
	// ErrDeviceOffline is CodeDeviceOffline.
	ErrDeviceOffline = svcapi.NewCode(http.StatusConflict, CodeDeviceOffline, "device offline")
	// ErrDeviceBusy is CodeDeviceBusy.
	ErrDeviceBusy = svcapi.NewCode(http.StatusConflict, CodeDeviceBusy, "device busy")
	// ErrDeviceRefused is CodeDeviceRefused.
	ErrDeviceRefused = svcapi.NewCode(http.StatusBadGateway, CodeDeviceRefused, "device refused")
	// ErrMediaUnavailable is CodeMediaUnavailable.
	ErrMediaUnavailable = svcapi.NewCode(http.StatusServiceUnavailable, CodeMediaUnavailable, "media gateway unavailable")
)
