// Package segment writes and scans the recorder's segments: fragmented MP4
// files made of an init section (ftyp+moov) followed by fragments
// (moof+mdat) of about one second each, appended and never rewritten.
//
// A Writer turns the access units and audio packets of one RTSP session
// into one segment; the caller cuts segments at video key frames
// (IsKeyFrame) and knows their wall-clock start. Scan reads a segment back,
// possibly cut short by a crash, and reports how many leading bytes form a
// playable file (init plus complete fragments), so that crash repair can
// truncate the file and index it.
package segment
