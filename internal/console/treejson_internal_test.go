package console

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// stdTree is what svcapi.WriteJSON writes for the tree: the reference
// writeTree must match byte for byte.
func stdTree(t testing.TB, nodes []*Node) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(map[string]any{"nodes": nodes}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writtenTree(t testing.TB, nodes []*Node) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := writeTree(rec, nodes); err != nil {
		t.Fatal(err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	return rec.Body.Bytes()
}

func TestWriteTree(t *testing.T) {
	// big spans several chunks, nested under regions.
	big := &Node{ID: "34", Name: "安徽省", Kind: NodeRegion, Online: true, ChannelCount: 5000, OnlineCount: 4000}
	for i := range 5000 {
		big.Children = append(big.Children, &Node{
			ID: "3402000000132" + strconv.Itoa(1000000+i), Name: "路口 <" + strconv.Itoa(i) + ">",
			Kind: NodeChannel, Online: i%5 != 0, DeviceID: "34020000001110000001", PTZType: i % 4,
		})
	}
	tests := []struct {
		name  string
		nodes []*Node
	}{
		{"empty", []*Node{}},
		{"nil", nil},
		{"nil node", []*Node{nil}},
		{"device", []*Node{{
			ID: "34020000001110000001", Name: "东门 NVR", Kind: NodeDevice, ChannelCount: 2, OnlineCount: 1,
			Children: []*Node{
				{ID: "34020000001320000001", Name: "a\"b\\c\n\r\t\b\f\x01\x1f", Kind: NodeChannel, Online: true, DeviceID: "d", PTZType: 1},
				{ID: "34020000001320000002", Name: "<script>&amp;\u2028\u2029", Kind: NodeChannel, DeviceID: "d"},
			},
		}}},
		{"invalid utf-8", []*Node{{ID: "\xff\xfe", Name: "镜湖\xe9区", Kind: NodeRegion, Children: []*Node{}}}},
		{"negative ptz", []*Node{{ID: "x", Kind: NodeChannel, PTZType: -3}}},
		{"big", []*Node{big}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, got := stdTree(t, tt.nodes), writtenTree(t, tt.nodes)
			if !bytes.Equal(got, want) {
				t.Fatalf("writeTree differs from encoding/json\n got %.300q\nwant %.300q", got, want)
			}
		})
	}
}

// FuzzWriteTree checks writeTree against encoding/json on any names and
// IDs, the strings a device's catalog controls.
func FuzzWriteTree(f *testing.F) {
	f.Add("34020000001320000001", "东门 <1>", "d", 1, true)
	f.Add("\xff", "\u2028&\x00", "", 0, false)
	f.Fuzz(func(t *testing.T, id, name, device string, ptz int, online bool) {
		ch := &Node{ID: id, Name: name, Kind: NodeChannel, Online: online, DeviceID: device, PTZType: ptz}
		nodes := []*Node{{ID: device, Name: strings.ToUpper(name), Kind: NodeDevice, Children: []*Node{ch}, ChannelCount: ptz}}
		want, got := stdTree(t, nodes), writtenTree(t, nodes)
		if !bytes.Equal(got, want) {
			t.Fatalf("writeTree differs from encoding/json\n got %q\nwant %q", got, want)
		}
	})
}
