package vqd

import (
	"errors"
	"fmt"
	"math"
)

// The size frames are analysed at: the thresholds are calibrated for it.
const (
	AnalysisWidth  = 320
	AnalysisHeight = 180
)

// Fault codes of a verdict.
const (
	FaultBlack     = "black"
	FaultDark      = "dark"
	FaultBright    = "bright"
	FaultBlur      = "blur"
	FaultColorCast = "color_cast"
	FaultOcclusion = "occlusion"
	FaultNoise     = "noise"
	FaultFrozen    = "frozen"
)

// ErrFrame is a frame whose planes do not match its size, or no frame.
var ErrFrame = errors.New("vqd: bad frame")

// Frame is one decoded picture, planar YUV 4:2:0 (ffmpeg's yuv420p): Y is
// Width×Height, Cb and Cr each (Width/2)×(Height/2), rounded up.
type Frame struct {
	Width, Height int
	Y, Cb, Cr     []byte
}

func (f Frame) check() error {
	cw, ch := (f.Width+1)/2, (f.Height+1)/2
	if f.Width < 16 || f.Height < 16 || len(f.Y) != f.Width*f.Height || len(f.Cb) != cw*ch || len(f.Cr) != cw*ch {
		return fmt.Errorf("%w: %dx%d with planes of %d, %d, %d bytes", ErrFrame, f.Width, f.Height, len(f.Y), len(f.Cb), len(f.Cr))
	}
	return nil
}

// Thresholds decide the faults from the measures. The zero value of a
// field means its default (DefaultThresholds).
type Thresholds struct {
	// DarkLuma: a mean luma below it is too dark; BlackLuma, with a spread
	// below FlatSpread, black.
	BlackLuma, DarkLuma float64
	// BrightLuma: a mean luma above it is too bright.
	BrightLuma float64
	// FlatSpread: a luma standard deviation below it is a flat picture.
	FlatSpread float64
	// Sharpness: a variance of the Laplacian below it is blurred.
	Sharpness float64
	// Noise: an estimated noise sigma above it is snow/noise.
	Noise float64
	// CastDistance and CastRatio: a mean chroma farther than CastDistance
	// from neutral is a colour cast, and so is one farther than half of it
	// and more than CastRatio times the chroma's spread around its mean (a
	// picture of one tint).
	CastDistance, CastRatio float64
	// OcclusionShare: a picture whose flat blocks are at least this share
	// (and not all of it) is occluded.
	OcclusionShare float64
	// FrozenDiff: a mean absolute luma difference between the first and
	// the last frame below it is a frozen picture.
	FrozenDiff float64
}

// DefaultThresholds are calibrated at AnalysisWidth × AnalysisHeight on
// ffmpeg's test pictures with each fault made by its filters (vqd_test.go).
var DefaultThresholds = Thresholds{
	BlackLuma: 30, DarkLuma: 50, BrightLuma: 215, FlatSpread: 6,
	Sharpness: 100, Noise: 8, CastDistance: 30, CastRatio: 1.0,
	OcclusionShare: 0.35, FrozenDiff: 0.3,
}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds
	for _, f := range []struct{ v, def *float64 }{
		{&t.BlackLuma, &d.BlackLuma},
		{&t.DarkLuma, &d.DarkLuma},
		{&t.BrightLuma, &d.BrightLuma},
		{&t.FlatSpread, &d.FlatSpread},
		{&t.Sharpness, &d.Sharpness},
		{&t.Noise, &d.Noise},
		{&t.CastDistance, &d.CastDistance},
		{&t.CastRatio, &d.CastRatio},
		{&t.OcclusionShare, &d.OcclusionShare},
		{&t.FrozenDiff, &d.FrozenDiff},
	} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	return t
}

// Measures are what a verdict was decided on.
type Measures struct {
	MeanLuma   float64 `json:"mean_luma"`
	LumaSpread float64 `json:"luma_spread"`
	// DarkShare is the share of pixels darker than the black threshold.
	DarkShare    float64 `json:"dark_share"`
	Sharpness    float64 `json:"sharpness"`
	Noise        float64 `json:"noise"`
	CastDistance float64 `json:"cast_distance"`
	CastRatio    float64 `json:"cast_ratio"`
	FlatShare    float64 `json:"flat_share"`
	// Motion is the mean absolute luma difference between the first and
	// the last frame; -1 with one frame.
	Motion float64 `json:"motion"`
}

// Verdict is the judgement of a picture.
type Verdict struct {
	// Faults are the fault codes found, none for a good picture.
	Faults   []string `json:"faults"`
	Measures Measures `json:"measures"`
}

// OK reports whether no fault was found.
func (v Verdict) OK() bool { return len(v.Faults) == 0 }

// Analyze judges the first of frames, and with two or more whether the
// picture is frozen (the last frame against the first). Frames of another
// size than the first are an error.
func Analyze(frames []Frame, th Thresholds) (Verdict, error) {
	if len(frames) == 0 {
		return Verdict{}, fmt.Errorf("%w: none", ErrFrame)
	}
	for _, f := range frames {
		if err := f.check(); err != nil {
			return Verdict{}, err
		}
		if f.Width != frames[0].Width || f.Height != frames[0].Height {
			return Verdict{}, fmt.Errorf("%w: frames of %dx%d and %dx%d", ErrFrame, frames[0].Width, frames[0].Height, f.Width, f.Height)
		}
	}
	th = th.withDefaults()
	f := frames[0]
	m := Measures{Motion: -1}
	m.MeanLuma, m.LumaSpread = meanSpread(f.Y)
	m.DarkShare = shareBelow(f.Y, th.BlackLuma)
	m.Sharpness = laplacianVariance(f)
	m.Noise = noiseSigma(f)
	m.CastDistance, m.CastRatio = colorCast(f)
	m.FlatShare = flatShare(f, th.FlatSpread)
	if len(frames) > 1 {
		m.Motion = meanAbsDiff(f.Y, frames[len(frames)-1].Y)
	}
	v := Verdict{Measures: m, Faults: []string{}}
	add := func(code string) { v.Faults = append(v.Faults, code) }
	detail := false
	switch {
	case m.LumaSpread < th.FlatSpread && m.MeanLuma < th.BlackLuma || m.DarkShare >= blackShare:
		// Black, the camera's own text (time, name) over it or not:
		// nothing else can be told of a black picture.
		add(FaultBlack)
	case m.FlatShare >= 0.95:
		// A flat picture (a covered lens, a blank screen): no detail to
		// judge sharpness, noise or colour by.
		add(FaultOcclusion)
	default:
		detail = true
		if m.MeanLuma < th.DarkLuma {
			add(FaultDark)
		}
		if m.MeanLuma > th.BrightLuma {
			add(FaultBright)
		}
		if m.Noise > th.Noise {
			add(FaultNoise)
		} else if m.Sharpness < th.Sharpness {
			add(FaultBlur) // noise looks sharp; blur is told where there is none
		}
		if m.CastDistance > th.CastDistance || m.CastDistance > th.CastDistance/2 && m.CastRatio > th.CastRatio {
			add(FaultColorCast)
		}
		if m.FlatShare >= th.OcclusionShare {
			add(FaultOcclusion)
		}
	}
	// A black or flat picture shows no motion anyway: frozen is told of a
	// picture with detail only.
	if detail && m.Motion >= 0 && m.Motion < th.FrozenDiff {
		add(FaultFrozen)
	}
	return v, nil
}

// blackShare is the share of pixels darker than BlackLuma that makes a
// picture black: the rest may be the camera's OSD.
const blackShare = 0.9

// shareBelow is the share of p's values below v.
func shareBelow(p []byte, v float64) float64 {
	n := 0
	for _, x := range p {
		if float64(x) < v {
			n++
		}
	}
	return float64(n) / float64(len(p))
}

func meanSpread(p []byte) (mean, spread float64) {
	var sum, sq float64
	for _, v := range p {
		x := float64(v)
		sum += x
		sq += x * x
	}
	n := float64(len(p))
	mean = sum / n
	return mean, math.Sqrt(max(sq/n-mean*mean, 0))
}

// laplacianVariance is the variance of the 4-neighbour Laplacian of luma.
func laplacianVariance(f Frame) float64 {
	w, h := f.Width, f.Height
	var sum, sq float64
	n := 0
	for y := 1; y < h-1; y++ {
		row := y * w
		for x := 1; x < w-1; x++ {
			i := row + x
			l := 4*int(f.Y[i]) - int(f.Y[i-1]) - int(f.Y[i+1]) - int(f.Y[i-w]) - int(f.Y[i+w])
			v := float64(l)
			sum += v
			sq += v * v
			n++
		}
	}
	mean := sum / float64(n)
	return sq/float64(n) - mean*mean
}

// noiseSigma is Immerkær's estimate of the noise's standard deviation
// ("Fast noise variance estimation", 1996).
func noiseSigma(f Frame) float64 {
	w, h := f.Width, f.Height
	var sum float64
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			p := func(dx, dy int) int { return int(f.Y[i+dy*w+dx]) }
			v := p(-1, -1) - 2*p(0, -1) + p(1, -1) - 2*p(-1, 0) + 4*p(0, 0) - 2*p(1, 0) + p(-1, 1) - 2*p(0, 1) + p(1, 1)
			sum += math.Abs(float64(v))
		}
	}
	return sum * math.Sqrt(math.Pi/2) / (6 * float64(w-2) * float64(h-2))
}

// colorCast is the distance of the mean chroma from neutral and its ratio
// to the mean distance of the chroma from its mean.
func colorCast(f Frame) (distance, ratio float64) {
	n := float64(len(f.Cb))
	var sa, sb float64
	for i := range f.Cb {
		sa += float64(f.Cb[i]) - 128
		sb += float64(f.Cr[i]) - 128
	}
	da, db := sa/n, sb/n
	var ma, mb float64
	for i := range f.Cb {
		ma += math.Abs(float64(f.Cb[i]) - 128 - da)
		mb += math.Abs(float64(f.Cr[i]) - 128 - db)
	}
	distance = math.Hypot(da, db)
	spread := math.Hypot(ma/n, mb/n)
	return distance, distance / max(spread, 1)
}

// flatShare is the share of the picture covered by the largest region of
// flat 16×16 blocks of one colour: blocks whose luma spread is below
// flatSpread with no step between neighbouring pixels, joined to their
// flat neighbours (left, right, above, below) of nearly the same luma and
// chroma. A test picture's many flat bars of different colours are no
// occlusion; one flat patch over most of the picture is.
func flatShare(f Frame, flatSpread float64) float64 {
	const b = 16
	w, h := f.Width, f.Height
	cw := (w + 1) / 2
	gw, gh := w/b, h/b
	if gw == 0 || gh == 0 {
		return 0
	}
	type block struct {
		flat      bool
		y, cb, cr float64
	}
	grid := make([]block, gw*gh)
	for gy := range gh {
		for gx := range gw {
			var sum, sq, grad float64
			for y := gy * b; y < gy*b+b; y++ {
				for x := gx * b; x < gx*b+b; x++ {
					v := float64(f.Y[y*w+x])
					sum += v
					sq += v * v
					if x+1 < gx*b+b {
						grad += math.Abs(v - float64(f.Y[y*w+x+1]))
					}
				}
			}
			mean := sum / (b * b)
			spread := math.Sqrt(max(sq/(b*b)-mean*mean, 0))
			var cb, cr float64
			for y := gy * b / 2; y < (gy*b+b)/2; y++ {
				for x := gx * b / 2; x < (gx*b+b)/2; x++ {
					cb += float64(f.Cb[y*cw+x])
					cr += float64(f.Cr[y*cw+x])
				}
			}
			n := float64(b * b / 4)
			grid[gy*gw+gx] = block{flat: spread < flatSpread && grad/(b*(b-1)) < 1, y: mean, cb: cb / n, cr: cr / n}
		}
	}
	alike := func(a, c block) bool {
		return math.Abs(a.y-c.y) <= 6 && math.Abs(a.cb-c.cb) <= 6 && math.Abs(a.cr-c.cr) <= 6
	}
	seen := make([]bool, len(grid))
	largest := 0
	stack := make([]int, 0, len(grid))
	for start := range grid {
		if seen[start] || !grid[start].flat {
			continue
		}
		seen[start] = true
		stack = append(stack[:0], start)
		size := 0
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			x, y := i%gw, i/gw
			for _, j := range [4]int{i - 1, i + 1, i - gw, i + gw} {
				switch {
				case j < 0 || j >= len(grid) || seen[j] || !grid[j].flat:
					continue
				case (j == i-1 && x == 0) || (j == i+1 && x == gw-1) || (j == i-gw && y == 0) || (j == i+gw && y == gh-1):
					continue // no wrapping at the edges
				case !alike(grid[i], grid[j]):
					continue
				}
				seen[j] = true
				stack = append(stack, j)
			}
		}
		largest = max(largest, size)
	}
	return float64(largest) / float64(len(grid))
}

func meanAbsDiff(a, b []byte) float64 {
	var sum int
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		sum += d
	}
	return float64(sum) / float64(len(a))
}
