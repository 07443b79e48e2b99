package ingest

import "errors"

var (
	// ErrTimeout ends a Receiver that received no packet of its stream for
	// Timeout.
	ErrTimeout = errors.New("ingest: no media received")

	// ErrClosed ends a Receiver closed by its owner.
	ErrClosed = errors.New("ingest: receiver closed")

	// ErrDisconnected ends a Receiver whose TCP connection was closed or
	// failed.
	ErrDisconnected = errors.New("ingest: connection lost")

	// ErrTransportClosed ends a Receiver whose transport was closed under it.
	ErrTransportClosed = errors.New("ingest: transport closed")

	// ErrNoPorts is returned when every port of a PortAllocator is in use.
	ErrNoPorts = errors.New("ingest: no free port")

	// ErrSSRCRequired is returned by UDPMux.Register for a Receiver without
	// an SSRC: on a shared port the SSRC is the only way to find the stream.
	ErrSSRCRequired = errors.New("ingest: SSRC required on a shared port")

	// ErrSSRCInUse is returned by UDPMux.Register when another Receiver
	// already has the SSRC.
	ErrSSRCInUse = errors.New("ingest: SSRC already registered")

	// ErrNoSink is returned by Receiver.Initialize without a Sink.
	ErrNoSink = errors.New("ingest: no sink")

	// ErrInvalidConfig is returned by Initialize for a negative setting.
	ErrInvalidConfig = errors.New("ingest: invalid configuration")

	// ErrNotRTP counts datagrams that are not RTP version 2 packets.
	ErrNotRTP = errors.New("ingest: not an RTP packet")
)
