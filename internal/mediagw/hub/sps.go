package hub

import (
	"fmt"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// Limits that keep a corrupt SPS from producing absurd sizes or loops.
const (
	maxDimension    = 16384
	maxPOCCycle     = 255
	maxExpGolombLen = 31
)

// bitReader reads an RBSP bit by bit straight out of a NAL unit, skipping
// emulation prevention bytes on the fly so that parsing needs no copy.
type bitReader struct {
	b     []byte
	pos   int
	zeros int
	cur   byte
	nbits uint
}

func (r *bitReader) bit() (uint32, error) {
	if r.nbits == 0 {
		if r.pos >= len(r.b) {
			return 0, errInvalidSPS
		}
		c := r.b[r.pos]
		r.pos++
		if r.zeros >= 2 && c == 3 {
			if r.pos >= len(r.b) {
				return 0, errInvalidSPS
			}
			c = r.b[r.pos]
			r.pos++
			r.zeros = 0
		}
		if c == 0 {
			r.zeros++
		} else {
			r.zeros = 0
		}
		r.cur = c
		r.nbits = 8
	}
	r.nbits--
	return uint32(r.cur>>r.nbits) & 1, nil
}

func (r *bitReader) bits(n int) (uint32, error) {
	var v uint32
	for range n {
		b, err := r.bit()
		if err != nil {
			return 0, err
		}
		v = v<<1 | b
	}
	return v, nil
}

func (r *bitReader) skip(n int) error {
	_, err := r.bits(n)
	return err
}

// ue reads an unsigned exp-Golomb code (ITU-T H.264 9.1).
func (r *bitReader) ue() (uint32, error) {
	lz := 0
	for {
		b, err := r.bit()
		if err != nil {
			return 0, err
		}
		if b == 1 {
			break
		}
		lz++
		if lz > maxExpGolombLen {
			return 0, errInvalidSPS
		}
	}
	v, err := r.bits(lz)
	if err != nil {
		return 0, err
	}
	return (1<<lz - 1) + v, nil
}

// se reads a signed exp-Golomb code (ITU-T H.264 9.1.1).
func (r *bitReader) se() (int32, error) {
	v, err := r.ue()
	if err != nil {
		return 0, err
	}
	if v&1 == 1 {
		return int32((v + 1) / 2), nil
	}
	return -int32(v / 2), nil
}

// ues reads n unsigned exp-Golomb codes; it keeps the parsers flat.
func (r *bitReader) ues(n int) ([4]uint32, error) {
	var out [4]uint32
	for i := range n {
		v, err := r.ue()
		if err != nil {
			return out, err
		}
		out[i] = v
	}
	return out, nil
}

// Resolution is the displayed picture size of a video track.
type Resolution struct {
	// Width is the picture width in luma samples after cropping.
	Width int
	// Height is the picture height in luma samples after cropping.
	Height int
}

func checkResolution(w, h int) (Resolution, error) {
	if w <= 0 || h <= 0 || w > maxDimension || h > maxDimension {
		return Resolution{}, fmt.Errorf("%w: size %dx%d", errInvalidSPS, w, h)
	}
	return Resolution{Width: w, Height: h}, nil
}

// h264Profiles lists the profile_idc values whose SPS carries chroma format
// and scaling list fields (ITU-T H.264 7.3.2.1.1).
func h264HighProfile(p uint32) bool {
	switch p {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		return true
	}
	return false
}

func skipScalingList(r *bitReader, size int) error {
	last, next := int32(8), int32(8)
	for range size {
		if next != 0 {
			delta, err := r.se()
			if err != nil {
				return err
			}
			next = (last + delta + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
	return nil
}

// parseH264SPS returns the resolution announced by an H.264 SPS NAL unit
// (header byte included, no start code).
func parseH264SPS(nal []byte) (Resolution, error) {
	if len(nal) < 4 || nal[0]&0x1f != 7 {
		return Resolution{}, fmt.Errorf("%w: not an H.264 SPS", errInvalidSPS)
	}
	profile := uint32(nal[1])
	r := &bitReader{b: nal[4:]}
	if _, err := r.ue(); err != nil { // seq_parameter_set_id
		return Resolution{}, err
	}
	chroma, separate := uint32(1), uint32(0)
	if h264HighProfile(profile) {
		if err := h264ChromaFields(r, &chroma, &separate); err != nil {
			return Resolution{}, err
		}
	}
	if _, err := r.ue(); err != nil { // log2_max_frame_num_minus4
		return Resolution{}, err
	}
	if err := h264SkipPOC(r); err != nil {
		return Resolution{}, err
	}
	if _, err := r.ue(); err != nil { // max_num_ref_frames
		return Resolution{}, err
	}
	if err := r.skip(1); err != nil { // gaps_in_frame_num_value_allowed_flag
		return Resolution{}, err
	}
	mbs, err := r.ues(2)
	if err != nil {
		return Resolution{}, err
	}
	frameMbsOnly, err := r.bit()
	if err != nil {
		return Resolution{}, err
	}
	skip := 1 // direct_8x8_inference_flag
	if frameMbsOnly == 0 {
		skip++ // mb_adaptive_frame_field_flag
	}
	if err = r.skip(skip); err != nil {
		return Resolution{}, err
	}
	cropping, err := r.bit()
	if err != nil {
		return Resolution{}, err
	}
	var crop [4]uint32
	if cropping == 1 {
		if crop, err = r.ues(4); err != nil {
			return Resolution{}, err
		}
	}
	// Crop units: ITU-T H.264 equations 7-19 to 7-22.
	fieldFactor := int64(2 - frameMbsOnly)
	unitX, unitY := int64(1), fieldFactor
	if separate == 0 && chroma != 0 {
		subW, subH := int64(2), int64(2)
		switch chroma {
		case 2:
			subH = 1
		case 3:
			subW, subH = 1, 1
		}
		unitX, unitY = subW, subH*fieldFactor
	}
	w := (int64(mbs[0])+1)*16 - unitX*(int64(crop[0])+int64(crop[1]))
	h := fieldFactor*(int64(mbs[1])+1)*16 - unitY*(int64(crop[2])+int64(crop[3]))
	return checkResolution(clampInt(w), clampInt(h))
}

func h264ChromaFields(r *bitReader, chroma, separate *uint32) error {
	var err error
	if *chroma, err = r.ue(); err != nil {
		return err
	}
	if *chroma > 3 {
		return fmt.Errorf("%w: chroma_format_idc %d", errInvalidSPS, *chroma)
	}
	if *chroma == 3 {
		if *separate, err = r.bit(); err != nil {
			return err
		}
	}
	// bit_depth_luma_minus8, bit_depth_chroma_minus8
	if _, err = r.ues(2); err != nil {
		return err
	}
	if err = r.skip(1); err != nil { // qpprime_y_zero_transform_bypass_flag
		return err
	}
	present, err := r.bit()
	if err != nil || present == 0 {
		return err
	}
	lists := 8
	if *chroma == 3 {
		lists = 12
	}
	for i := range lists {
		f, err := r.bit()
		if err != nil {
			return err
		}
		if f == 0 {
			continue
		}
		size := 16
		if i >= 6 {
			size = 64
		}
		if err := skipScalingList(r, size); err != nil {
			return err
		}
	}
	return nil
}

func h264SkipPOC(r *bitReader) error {
	pocType, err := r.ue()
	if err != nil {
		return err
	}
	switch pocType {
	case 0:
		_, err = r.ue() // log2_max_pic_order_cnt_lsb_minus4
		return err
	case 1:
		if err = r.skip(1); err != nil { // delta_pic_order_always_zero_flag
			return err
		}
		// offset_for_non_ref_pic, offset_for_top_to_bottom_field
		if _, err = r.ues(2); err != nil {
			return err
		}
		n, err := r.ue()
		if err != nil {
			return err
		}
		if n > maxPOCCycle {
			return fmt.Errorf("%w: %d POC cycle offsets", errInvalidSPS, n)
		}
		for range n {
			if _, err = r.ue(); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseH265SPS returns the resolution announced by an H.265 SPS NAL unit
// (two header bytes included, no start code).
func parseH265SPS(nal []byte) (Resolution, error) {
	if len(nal) < 3 || (nal[0]>>1)&0x3f != 33 {
		return Resolution{}, fmt.Errorf("%w: not an H.265 SPS", errInvalidSPS)
	}
	r := &bitReader{b: nal[2:]}
	// sps_video_parameter_set_id(4), sps_max_sub_layers_minus1(3), temporal_id_nesting(1)
	hdr, err := r.bits(8)
	if err != nil {
		return Resolution{}, err
	}
	if err = h265SkipProfileTierLevel(r, int((hdr>>1)&7)); err != nil {
		return Resolution{}, err
	}
	if _, err = r.ue(); err != nil { // sps_seq_parameter_set_id
		return Resolution{}, err
	}
	chroma, err := r.ue()
	if err != nil {
		return Resolution{}, err
	}
	if chroma > 3 {
		return Resolution{}, fmt.Errorf("%w: chroma_format_idc %d", errInvalidSPS, chroma)
	}
	separate := uint32(0)
	if chroma == 3 {
		if separate, err = r.bit(); err != nil {
			return Resolution{}, err
		}
	}
	size, err := r.ues(2)
	if err != nil {
		return Resolution{}, err
	}
	window, err := r.bit()
	if err != nil {
		return Resolution{}, err
	}
	var crop [4]uint32
	if window == 1 {
		if crop, err = r.ues(4); err != nil {
			return Resolution{}, err
		}
	}
	// SubWidthC and SubHeightC: ITU-T H.265 table 6-1.
	subW, subH := int64(1), int64(1)
	if separate == 0 && (chroma == 1 || chroma == 2) {
		subW = 2
		if chroma == 1 {
			subH = 2
		}
	}
	w := int64(size[0]) - subW*(int64(crop[0])+int64(crop[1]))
	h := int64(size[1]) - subH*(int64(crop[2])+int64(crop[3]))
	return checkResolution(clampInt(w), clampInt(h))
}

// h265SkipProfileTierLevel skips profile_tier_level(1, maxSubLayersMinus1)
// (ITU-T H.265 7.3.3).
func h265SkipProfileTierLevel(r *bitReader, maxSubLayersMinus1 int) error {
	// general profile (88 bits) and general_level_idc (8 bits)
	if err := r.skip(96); err != nil {
		return err
	}
	var present [7]uint32
	for i := range maxSubLayersMinus1 {
		v, err := r.bits(2)
		if err != nil {
			return err
		}
		present[i] = v
	}
	if maxSubLayersMinus1 > 0 {
		if err := r.skip(2 * (8 - maxSubLayersMinus1)); err != nil {
			return err
		}
	}
	for i := range maxSubLayersMinus1 {
		n := 0
		if present[i]&2 != 0 { // sub_layer_profile_present_flag
			n += 88
		}
		if present[i]&1 != 0 { // sub_layer_level_present_flag
			n += 8
		}
		if err := r.skip(n); err != nil {
			return err
		}
	}
	return nil
}

func clampInt(v int64) int {
	if v < 0 || v > maxDimension+1 {
		return -1
	}
	return int(v)
}

// findSPS returns the first SPS NAL unit of an Annex-B access unit, or nil.
func findSPS(codec ps.Codec, au []byte) []byte {
	for nal := range ps.NALUnits(au) {
		switch {
		case codec == ps.CodecH264 && nal[0]&0x1f == 7,
			codec == ps.CodecH265 && (nal[0]>>1)&0x3f == 33:
			return nal
		}
	}
	return nil
}

// parseSPS dispatches on codec.
func parseSPS(codec ps.Codec, nal []byte) (Resolution, error) {
	if codec == ps.CodecH265 {
		return parseH265SPS(nal)
	}
	return parseH264SPS(nal)
}
