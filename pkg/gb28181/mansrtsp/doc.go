// Package mansrtsp builds and parses the MANSRTSP bodies (GB/T 28181
// Annex B) that control a playback session over SIP INFO
// (Content-Type: Application/MANSRTSP).
//
// A platform pauses, resumes, seeks and changes the speed of a playback
// with small RTSP-like requests:
//
//	PLAY RTSP/1.0      PAUSE RTSP/1.0    PLAY RTSP/1.0   PLAY RTSP/1.0   TEARDOWN RTSP/1.0
//	CSeq: 2            CSeq: 3           CSeq: 4         CSeq: 5         CSeq: 6
//	Range: npt=now-    PauseTime: now    Scale: 2.0      Range: npt=125-
//
// and a device may answer with an "RTSP/1.0 200 OK" body. Builder writes
// requests as WVP does (Scale as %.6f, no trailing blank line) and knows
// the 2011 dialect (MANSRTSP/1.0, PAUSE without PauseTime). ParseRequest
// and ParseResponse are lenient about line endings, header case, spacing
// and unknown headers, and bound their input.
package mansrtsp
