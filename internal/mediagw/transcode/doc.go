// Package transcode gives browsers, which cannot decode H.265, an H.264
// version of H.265 streams: one ffmpeg per source stream, shared by all its
// readers, started by the first one and stopped Linger after the last one
// left or when the source closes.
//
// The H.264 version is an ordinary hub stream at the derived path
// <source path>~h264. A hub reader on the source ("transcode h264") feeds
// ffmpeg's stdin with the Annex-B H.265 access units; ffmpeg writes raw
// H.264 with access unit delimiters to stdout, which is cut into units on
// the delimiters. ffmpeg keeps frames one to one (no B-frames, zero
// latency tuning, passthrough frame timing), so each output unit takes the
// PTS of the oldest input not yet matched; keyframes are forced where the
// source has them, which lets the mapping realign itself at the next
// keyframe should ffmpeg ever drop a frame. Source audio is copied to the
// derived stream with its PTS, interleaved by PTS with the video.
package transcode
