package vodtranscode

import (
	"context"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// init encodes the segment's first key frame and writes the init section
// with the parameter sets ffmpeg gave it.
func (t *Transcoder) init(ctx context.Context, src Source) ([]byte, error) {
	tr, err := readInit(src)
	if err != nil {
		return nil, err
	}
	sps, pps, err := t.params(ctx, src, tr)
	if err != nil {
		return nil, err
	}
	out := fmp4.Init{}
	for _, it := range tr.init.Tracks {
		switch it.ID {
		case tr.videoID:
			out.Tracks = append(out.Tracks, &fmp4.InitTrack{
				ID: it.ID, TimeScale: it.TimeScale, Codec: &codecs.H264{SPS: sps, PPS: pps},
			})
		case tr.audioID:
			out.Tracks = append(out.Tracks, it)
		}
	}
	var buf seekablebuffer.Buffer
	if err := out.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("recording %s: write init section: %w", src.Key, err)
	}
	return buf.Bytes(), nil
}

// maxParams bounds the H.264 parameter sets kept, one per kind of source
// stream (a camera model and its settings).
const maxParams = 256

// params returns the H.264 parameter sets of the segment's H.264 version.
// They depend only on the source's parameter sets (size, colour, timing)
// and on ffmpeg's options, which never change: they are kept by the
// source's, so that only the first segment of a kind costs an ffmpeg run.
func (t *Transcoder) params(ctx context.Context, src Source, tr tracks) (sps, pps []byte, err error) {
	var from string
	for _, it := range tr.init.Tracks {
		if c, ok := it.Codec.(*codecs.H265); ok && it.ID == tr.videoID {
			if len(c.SPS) > 0 {
				from = string(c.VPS) + "\x00" + string(c.SPS) + "\x00" + string(c.PPS)
			}
		}
	}
	t.mu.Lock()
	kept, ok := t.paramSets[from]
	t.mu.Unlock()
	if ok && from != "" {
		return kept[0], kept[1], nil
	}
	key, err := firstKey(src, tr)
	if err != nil {
		return nil, nil, err
	}
	in, err := stretch{video: []sample{key}}.annexB()
	if err != nil {
		return nil, nil, err
	}
	aus, err := t.transcode(ctx, in, presetStretch)
	if err != nil {
		return nil, nil, fmt.Errorf("recording %s: init: %w", src.Key, err)
	}
	for _, n := range aus[0] {
		switch n[0] & 0x1F {
		case naluSPS:
			sps = n
		case naluPPS:
			pps = n
		}
	}
	if sps == nil || pps == nil {
		return nil, nil, fmt.Errorf("%w: recording %s: no SPS/PPS in ffmpeg's first unit", ErrFFmpeg, src.Key)
	}
	if from != "" {
		t.mu.Lock()
		if len(t.paramSets) >= maxParams {
			clear(t.paramSets)
		}
		t.paramSets[from] = [2][]byte{sps, pps}
		t.mu.Unlock()
	}
	return sps, pps, nil
}

// part transcodes a stretch and writes it as one fragment. A stretch with
// no key frame (the one before runs through it) is a fragment with no
// sample.
func (t *Transcoder) part(ctx context.Context, src Source, rg Range) ([]byte, error) {
	tr, err := readInit(src)
	if err != nil {
		return nil, err
	}
	st, err := readStretch(src, tr, rg)
	if err != nil {
		return nil, err
	}
	p := fmp4.Part{
		// Distinct per stretch of a segment, increasing along it.
		SequenceNumber: uint32(rg.From.Milliseconds()) + 1,
		Tracks:         []*fmp4.PartTrack{{ID: tr.videoID, BaseTime: durationTicks(rg.From+rg.Shift, tr.vScale)}},
	}
	if len(st.video) > 0 {
		if p.Tracks[0], err = t.video(ctx, src, rg, tr, st); err != nil {
			return nil, err
		}
	}
	if len(st.audio) > 0 {
		audio := make([]*fmp4.Sample, len(st.audio))
		for i, a := range st.audio {
			audio[i] = a.s
		}
		p.Tracks = append(p.Tracks, &fmp4.PartTrack{
			ID: tr.audioID, BaseTime: st.audio[0].dts + durationTicks(rg.Shift, tr.aScale), Samples: audio,
		})
	}
	var buf seekablebuffer.Buffer
	if err := p.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("recording %s: write fragment: %w", src.Key, err)
	}
	return buf.Bytes(), nil
}

// video transcodes the stretch's video. ffmpeg outputs frames in
// presentation order, one per decodable input: they take the expected
// presentation times in order, and those outside [startPTS, endPTS)
// (leading pictures of either key frame that belong to the stretch before)
// are left out. Without B-frames out, decode time is presentation time.
func (t *Transcoder) video(ctx context.Context, src Source, rg Range, tr tracks, st stretch) (*fmp4.PartTrack, error) {
	in, err := st.annexB()
	if err != nil {
		return nil, err
	}
	preset := presetStretch
	if rg.First {
		preset = presetFirst
	}
	aus, err := t.transcode(ctx, in, preset)
	if err != nil {
		return nil, fmt.Errorf("recording %s from %s: %w", src.Key, rg.From, err)
	}
	pts := st.expected
	if len(aus) != len(pts) {
		t.Log.Warn("vodtranscode: ffmpeg gave another number of frames than expected; times are matched in order",
			"recording", src.Key, "from", rg.From, "frames_expected", len(pts), "frames_out", len(aus))
	}
	var kept []int
	for i := range min(len(aus), len(pts)) {
		if pts[i] >= st.startPTS && pts[i] < st.endPTS {
			kept = append(kept, i)
		}
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("%w: recording %s from %s: no frame out of %d", ErrFFmpeg, src.Key, rg.From, len(aus))
	}
	samples := make([]*fmp4.Sample, 0, len(kept))
	for j, i := range kept {
		end := st.endPTS
		if j+1 < len(kept) {
			end = pts[kept[j+1]]
		}
		dur := end - pts[i]
		if dur <= 0 || dur > 1<<31 {
			dur = 1 // a garbled time: the frame still shows
		}
		payload, err := h264.AVCC(aus[i]).Marshal()
		if err != nil {
			return nil, fmt.Errorf("%w: recording %s: unit %d: %w", ErrFFmpeg, src.Key, i, err)
		}
		samples = append(samples, &fmp4.Sample{Duration: uint32(dur), IsNonSyncSample: !isIDR(aus[i]), Payload: payload})
	}
	return &fmp4.PartTrack{
		ID: tr.videoID, BaseTime: uint64(pts[kept[0]]) + durationTicks(rg.Shift, tr.vScale), Samples: samples,
	}, nil
}
