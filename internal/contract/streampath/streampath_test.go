package streampath_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
)

const channel = "34020000001320000001"

func TestBuild(t *testing.T) {
	cases := []struct{ got, want string }{
		{streampath.Live(channel), "live/" + channel},
		{streampath.Playback("0123abcd0123abcd"), "playback/0123abcd0123abcd"},
		{streampath.Download("0123abcd0123abcd"), "download/0123abcd0123abcd"},
		{streampath.Join(streampath.KindDownload, "x"), "download/x"},
		{streampath.Recording(channel), "recording/" + channel},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		path string
		kind streampath.Kind
		id   string
		err  error
	}{
		{"live/" + channel, streampath.KindLive, channel, nil},
		{"playback/0123abcd0123abcd", streampath.KindPlayback, "0123abcd0123abcd", nil},
		{"download/a-b_C", streampath.KindDownload, "a-b_C", nil},
		{"recording/" + channel, streampath.KindRecording, channel, nil},
		{"recording/0123abcd0123abcd", "", "", streampath.ErrInvalid}, // a session ID is not a channel
		{"recording/" + channel + "/x", "", "", streampath.ErrInvalid},
		{"recording/", "", "", streampath.ErrInvalid},
		{"live/3402000000132000000", "", "", streampath.ErrInvalid},   // 19 digits
		{"live/340200000013200000011", "", "", streampath.ErrInvalid}, // 21 digits
		{"live/3402000000132000000x", "", "", streampath.ErrInvalid},
		{"live/" + channel + "~h264", "", "", streampath.ErrInvalid},
		{"live/" + channel + "/x", "", "", streampath.ErrInvalid},
		{"live/", "", "", streampath.ErrInvalid},
		{"live", "", "", streampath.ErrInvalid},
		{"playback/", "", "", streampath.ErrInvalid},
		{"playback/a.b", "", "", streampath.ErrInvalid},
		{"playback/" + strings.Repeat("a", 65), "", "", streampath.ErrInvalid},
		{"download/a/b", "", "", streampath.ErrInvalid},
		{"record/x", "", "", streampath.ErrUnknownKind},
		{"Live/" + channel, "", "", streampath.ErrUnknownKind},
		{"/live/" + channel, "", "", streampath.ErrInvalid},
		{"../live/" + channel, "", "", streampath.ErrInvalid},
		{"", "", "", streampath.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			kind, id, err := streampath.Parse(c.path)
			if !errors.Is(err, c.err) || kind != c.kind || id != c.id {
				t.Fatalf("Parse(%q) = %q, %q, %v; want %q, %q, %v", c.path, kind, id, err, c.kind, c.id, c.err)
			}
			if err != nil && !errors.Is(err, streampath.ErrInvalid) {
				t.Fatalf("Parse(%q): %v does not wrap ErrInvalid", c.path, err)
			}
		})
	}
}

func TestValid(t *testing.T) {
	cases := []struct {
		path string
		ok   bool
	}{
		{"live/" + channel, true},
		{"live/test", true},
		{"a/b.c/d-e_f", true},
		{"single", true},
		{"", false},
		{"/live/a", false},
		{"live/a/", false},
		{"live//a", false},
		{"live/.a", false},
		{".hidden", false},
		{"../etc", false},
		{"live/a~h264", false},
		{"live/a b", false},
		{"live/é", false},
		{strings.Repeat("a", streampath.MaxLen), true},
		{strings.Repeat("a", streampath.MaxLen+1), false},
	}
	for _, c := range cases {
		if err := streampath.Valid(c.path); (err == nil) != c.ok {
			t.Errorf("Valid(%q) = %v, want ok %v", c.path, err, c.ok)
		}
	}
}

func TestKindOf(t *testing.T) {
	cases := []struct {
		path string
		want streampath.Kind
	}{
		{"live/x", streampath.KindLive},
		{"playback/x", streampath.KindPlayback},
		{"download/", streampath.KindDownload},
		{"download", ""},
		{"recording/x", streampath.KindRecording},
		{"other/x", ""},
	}
	for _, c := range cases {
		if got := streampath.KindOf(c.path); got != c.want {
			t.Errorf("KindOf(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}

// FuzzParse: whatever Parse accepts is Valid and is built back by Join;
// nothing panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"live/" + channel, "playback/0123abcd0123abcd", "download/x", "recording/" + channel, "live/a~h264", "../x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		kind, id, err := streampath.Parse(path)
		if err != nil {
			if !errors.Is(err, streampath.ErrInvalid) {
				t.Fatalf("Parse(%q): %v does not wrap ErrInvalid", path, err)
			}
			return
		}
		if streampath.Join(kind, id) != path {
			t.Fatalf("Join(Parse(%q)) = %q", path, streampath.Join(kind, id))
		}
		if err := streampath.Valid(path); err != nil {
			t.Fatalf("Parse accepts %q, Valid refuses it: %v", path, err)
		}
		if streampath.KindOf(path) != kind {
			t.Fatalf("KindOf(%q) = %q, Parse says %q", path, streampath.KindOf(path), kind)
		}
	})
}
