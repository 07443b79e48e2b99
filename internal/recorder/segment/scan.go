package segment

import (
	"io"
	"time"
)

// Info is what Scan finds in a segment.
type Info struct {
	// Tracks are the codec names of the tracks, video first ("h264",
	// "h265"; "lpcm" for G.711 stored as LPCM, "aac").
	Tracks []string
	// Width and Height come from the video SPS.
	Width, Height int
	// Duration is the video duration of the complete fragments.
	Duration time.Duration
	// Complete is the byte length of the init section and the complete
	// fragments: the file truncated to it is a playable segment.
	Complete int64
	// Fragments is the number of complete fragments.
	Fragments int
}

// Scan reads a segment written by Writer, possibly cut short by a crash,
// and reports its tracks, video duration and how many leading bytes are
// whole (init section plus complete fragments). A file without a complete
// init section is ErrNoInit.
func Scan(r io.ReaderAt, size int64) (Info, error) {
	return Info{}, ErrNoInit
}
