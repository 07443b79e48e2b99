// Package vodtranscode gives browsers that cannot decode H.265 an H.264
// version of a recorded H.265 segment, one stretch at a time, for the
// recorder's HLS VOD (index.m3u8?video=h264).
//
// A stretch [From, To) of a segment starts at its first video key frame at
// or after From and ends before the first key frame at or after To (To 0:
// the end of what is written), so that stretches cut at the same points
// tile a segment exactly, whatever its GOP; one with no key frame in
// [From, To) is empty (the stretch before runs through it). The leading
// pictures of the end key frame (shown before it; with open GOPs they
// refer to this stretch's frames) belong to the stretch and are decoded
// with it. Its H.265 access units go to one ffmpeg run (libx264, no
// B-frames, key frames where the source has them); the frames that come
// back, one per decodable input in presentation order, take the source's
// presentation times, and the source's audio of the stretch is copied
// beside them. The answer is one fragment (moof+mdat) on the segment's
// timeline, moved by Shift as the VOD's other media are. The init
// section's H.264 parameter sets come from encoding a segment's first key
// frame with the same options, once per kind of source stream (they depend
// only on its parameter sets); every key frame also carries them in band.
//
// At most MaxRunning ffmpeg runs at once; MaxQueue requests per slot wait
// for one, more are refused (ErrBusy). Answers of segments that no longer
// grow are cached up to CacheBytes, identical requests in flight share one
// run, and a segment object is opened only when its answer is not cached.
// Warm starts the first transcodes of a playback before the player asks.
package vodtranscode
