package hub

import (
	"errors"
	"fmt"
)

// Sentinel errors of the hub.
var (
	// ErrAlreadyPublished is returned by Publish when the path has a publisher.
	ErrAlreadyPublished = errors.New("hub: path already published")

	// ErrHubClosed is returned by Publish after Close.
	ErrHubClosed = errors.New("hub: closed")

	// ErrStreamClosed is returned by WriteUnit and AddReader on a closed
	// stream, and is the reader's error when its stream closes.
	ErrStreamClosed = errors.New("hub: stream closed")

	// ErrStreamEnded is the error of the first reader of a held stream
	// (Hub.PublishHold) that was given every unit of the stream after its
	// writer ended: the clean end of a download. It wraps ErrStreamClosed.
	ErrStreamEnded = fmt.Errorf("%w: ended, everything was read", ErrStreamClosed)

	// ErrReaderClosed is the reader's error after Reader.Close.
	ErrReaderClosed = errors.New("hub: reader closed")

	// ErrSlowReader is the reader's error when it was disconnected because its
	// queue overflowed in MaxOverflows consecutive GOPs.
	ErrSlowReader = errors.New("hub: reader too slow")

	// ErrUnknownCodec is returned by WriteUnit for a unit of no known codec.
	ErrUnknownCodec = errors.New("hub: unknown codec")

	// errInvalidSPS is returned by the SPS parsers; it never leaves the package.
	errInvalidSPS = errors.New("hub: invalid SPS")
)
