package segment

// NewFLACEncoderForTest returns an A-law 8 kHz mono encoder as a function
// appending one payload's frames to dst, for benchmarks.
func NewFLACEncoderForTest(int) func(dst, payload []byte) []byte {
	e := newFLACEncoder(&alawTable, 1, 8000)
	var sizes, durs []uint32
	return func(dst, payload []byte) []byte {
		dst, sizes, durs = e.encode(dst, payload, sizes[:0], durs[:0])
		return dst
	}
}
