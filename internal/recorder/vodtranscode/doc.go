// Package vodtranscode gives browsers that cannot decode H.265 an H.264
// version of a recorded H.265 segment, one stretch at a time, for the
// recorder's HLS VOD (index.m3u8?video=h264).
//
// A stretch [From, To) of a segment starts at its first video key frame at
// or after From and ends before the first key frame at or after To (To 0:
// the end of what is written), so that stretches cut at the same points
// tile a segment exactly, whatever its GOP. Its H.265 access units go to
// one ffmpeg run (libx264, no B-frames, key frames where the source has
// them, frames passed one to one); the H.264 units that come back take the
// source's presentation times in order, and the source's audio of the
// stretch is copied beside them. The answer is one fragment (moof+mdat)
// whose decode times are the source's, moved by Shift as the VOD's other
// media are. The init section's H.264 parameter sets come from encoding
// the segment's first key frame with the same options; every key frame
// also carries them in band.
//
// At most MaxRunning ffmpeg runs at once (a request waits for a slot, or
// its context); answers of segments that no longer grow are cached up to
// CacheBytes, and identical requests in flight share one run.
package vodtranscode
