// Package sdp reads and writes the SDP bodies of GB/T 28181 INVITEs.
//
// GB28181 uses a small, fixed subset of SDP (RFC 4566) plus two lines of its
// own from Annex F: y= (the 10-digit decimal SSRC) and f= (media format
// hints). Devices are picky about line order and sloppy about everything
// else, so Marshal always writes v, o, s, u, c, t, m, a…, y, f with CRLF
// endings, while Parse accepts LF-only input, stray whitespace, unknown lines,
// a missing or 9-digit y= and similar quirks seen in the field.
//
// The package also builds the platform's offers (NewPlayOffer,
// NewPlaybackOffer, NewDownloadOffer, NewTalkOffer), resolves an
// offer/answer pair into a media plan (ResolvePlan: which SSRC to expect,
// where to send or connect, who opens the TCP connection) and allocates
// y= SSRCs per SIP domain (Allocator).
package sdp
