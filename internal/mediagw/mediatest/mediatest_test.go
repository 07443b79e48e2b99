package mediatest

import (
	"context"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

func TestClipAndPlayer(t *testing.T) {
	for _, codec := range []ps.Codec{ps.CodecH264, ps.CodecH265} {
		t.Run(codec.String(), func(t *testing.T) {
			c := NewClip(t, codec, 320, 240, 25, 2)
			if len(c.Units) != 50 {
				t.Fatalf("units = %d, want 50", len(c.Units))
			}
			keys := 0
			for _, u := range c.Units {
				if u.Keyframe {
					keys++
				}
			}
			if keys != 2 || !c.Units[0].Keyframe || !c.Units[25].Keyframe {
				t.Fatalf("keyframes = %d (first %v, 26th %v), want 2 at 0 and 25", keys, c.Units[0].Keyframe, c.Units[25].Keyframe)
			}
			h := NewHub(t, nil)
			st := Publish(t, h, "live/test", c, true)
			select {
			case <-st.Ready():
			case <-time.After(3 * time.Second):
				t.Fatal("stream not ready")
			}
			r, err := st.AddReader("test")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := r.Tracks(); len(got) != 2 || got[0] != codec || got[1] != ps.CodecG711A {
				t.Fatalf("tracks = %v", got)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			u, err := r.Next(ctx)
			if err != nil || !u.Keyframe || u.Codec != codec {
				t.Fatalf("first unit %v %v %v", u.Codec, u.Keyframe, err)
			}
			st2 := h.Streams()[0]
			if st2.Width != 320 || st2.Height != 240 {
				t.Fatalf("resolution %dx%d", st2.Width, st2.Height)
			}
		})
	}
}
