// Package vqd judges a camera's picture (video quality diagnosis, 视频质量诊断)
// from a few decoded frames: black, too dark, too bright, blurred, colour
// cast, occluded (a large flat region), snow/noise and frozen. Each fault
// has a code, every verdict carries the measures it was decided on, and the
// thresholds are settings, so an administrator can see why a camera was
// flagged and tune what counts.
//
// The measures are computed on the luma and chroma planes of frames scaled
// to AnalysisWidth × AnalysisHeight (Decoder does it with ffmpeg), so that
// one threshold holds for every camera resolution:
//   - brightness: the mean and spread of luma;
//   - sharpness: the variance of the Laplacian of luma;
//   - noise: Immerkær's fast noise estimate (the mean absolute response to
//     a mask that cancels edges of first and second order);
//   - colour cast: the distance of the mean chroma from neutral, D, against
//     the chroma's own spread around its mean, M (a cast moves the whole
//     picture's colour: D large against M);
//   - occlusion: the share of the picture covered by the largest region of
//     flat 16×16 blocks of one colour;
//   - frozen: the mean absolute luma difference between the first and the
//     last frame, sampled seconds apart.
package vqd
