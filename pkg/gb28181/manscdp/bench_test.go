package manscdp_test

import (
	"os"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// BenchmarkDecode measures the bodies on sipserver's hot paths: a keepalive per
// device per minute, and catalog pages after every registration.
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"keepalive_hikvision", "catalog_hikvision_nvr", "recordinfo_response"} {
		body, err := os.ReadFile("testdata/" + name + ".xml")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := manscdp.Decode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeKeepalive measures what a simulator pays per keepalive sent.
func BenchmarkEncodeKeepalive(b *testing.B) {
	msg := manscdp.NewKeepalive("34020000001320000001", 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := manscdp.Encode(msg, manscdp.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
