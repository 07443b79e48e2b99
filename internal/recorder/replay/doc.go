// Package replay sends a channel's platform recordings of a time range to
// a mediagw receiver as PS over RTP (RFC 4571 framing over TCP), paced as
// they were recorded: the recorder plays the device's part, so that a
// superior platform's playback or download of our recordings runs through
// mediagw's receiver, hub and upward sender exactly as one of a device's
// own (sipserver opens the receiver and the sender, then starts the
// replay here).
//
// A replay reads the segments the index lists for the range in order,
// starts at the key frame at or before the range's (or a seek's) start,
// skips holes between recordings without waiting them out, and keeps its
// timestamps running across holes and seeks. Video only: the recordings'
// audio is not sent yet.
package replay
