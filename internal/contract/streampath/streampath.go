// Package streampath is the stream path scheme, defined once for every
// service: the console and sipserver name the streams they ask mediagw for
// with it, mediagw publishes and serves them under it, and play tokens and
// audit rows carry it.
//
//	live/<channel ID>        a channel's live stream (20-digit GB/T 28181 ID)
//	playback/<session ID>    a device playback session
//	download/<session ID>    a device download session
//	recording/<channel ID>   a channel's recordings in platform storage
//
// A path is also the URL suffix of mediagw's outputs (/whep/<path>,
// /hls/<path>/index.m3u8, rtsp://host:8554/<path>), and, for recording/
// paths, of the recorder's HLS VOD (/vod/<path>/index.m3u8).
package streampath

import (
	"fmt"
	"strings"
)

// Kind is the first segment of a stream path: what the stream is.
type Kind string

// The kinds of the scheme.
const (
	KindLive     Kind = "live"
	KindPlayback Kind = "playback"
	KindDownload Kind = "download"
	// KindRecording names a channel's recordings as the recorder serves
	// them (HLS VOD); a token for it needs the playback right.
	KindRecording Kind = "recording"
)

// MaxLen bounds a stream path (mediagw refuses longer ones).
const MaxLen = 200

// maxSessionID bounds a session ID (sipserver's are 16 hex digits).
const maxSessionID = 64

// channelIDLen is the length of a GB/T 28181 ID.
const channelIDLen = 20

// Live returns the path of a channel's live stream.
func Live(channelID string) string { return Join(KindLive, channelID) }

// Playback returns the path of a device playback session's stream.
func Playback(sessionID string) string { return Join(KindPlayback, sessionID) }

// Download returns the path of a device download session's stream.
func Download(sessionID string) string { return Join(KindDownload, sessionID) }

// Recording returns the path of a channel's recordings in platform
// storage.
func Recording(channelID string) string { return Join(KindRecording, channelID) }

// Join returns the path of kind for id (a channel ID for KindLive, a
// session ID otherwise). It does not validate: Parse does.
func Join(kind Kind, id string) string { return string(kind) + "/" + id }

// Parse splits a path of the scheme into its kind and ID: a 20-digit
// channel ID for live and recording paths, a session ID (letters, digits, '-' and '_')
// for playback and download paths. Anything else wraps ErrInvalid, or
// ErrUnknownKind for a first segment the scheme does not know.
func Parse(path string) (Kind, string, error) {
	if err := Valid(path); err != nil {
		return "", "", err
	}
	k, id, ok := strings.Cut(path, "/")
	if !ok {
		return "", "", fmt.Errorf("%w: %q has no kind/ID", ErrInvalid, path)
	}
	kind := Kind(k)
	switch kind {
	case KindLive, KindRecording:
		if !isChannelID(id) {
			return "", "", fmt.Errorf("%w: %q: %s/ needs a 20-digit channel ID", ErrInvalid, path, kind)
		}
	case KindPlayback, KindDownload:
		if !isSessionID(id) {
			return "", "", fmt.Errorf("%w: %q: %s/ needs a session ID (letters, digits, - and _, at most %d)",
				ErrInvalid, path, kind, maxSessionID)
		}
	default:
		return "", "", fmt.Errorf("%w: %q (want live/, playback/, download/ or recording/)", ErrUnknownKind, path)
	}
	return kind, id, nil
}

// KindOf returns the kind named by path's first segment, or "" when it is
// none of the scheme's; unlike Parse it does not check the ID.
func KindOf(path string) Kind {
	k, _, ok := strings.Cut(path, "/")
	if !ok {
		return ""
	}
	switch kind := Kind(k); kind {
	case KindLive, KindPlayback, KindDownload, KindRecording:
		return kind
	}
	return ""
}

// Valid checks the syntax every stream path mediagw publishes keeps, the
// scheme's and others (tests and tools publish at paths of their own):
// segments of ASCII letters, digits, '-', '_' and '.', joined by single
// '/', none starting with '.', at most MaxLen bytes. '~' is not allowed:
// it marks mediagw's own transcodes of a path.
func Valid(p string) error {
	if p == "" || len(p) > MaxLen || p[0] == '/' || p[len(p)-1] == '/' {
		return fmt.Errorf("%w: %q", ErrInvalid, p)
	}
	prev := byte('/')
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !isWordByte(c) && c != '.' && c != '/' || c == '/' && prev == '/' || c == '.' && prev == '/' {
			return fmt.Errorf("%w: %q (letters, digits, - _ . and single /)", ErrInvalid, p)
		}
		prev = c
	}
	return nil
}

func isChannelID(s string) bool {
	if len(s) != channelIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isSessionID(s string) bool {
	if s == "" || len(s) > maxSessionID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

// isWordByte: ASCII letters, digits, '-' and '_'.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
