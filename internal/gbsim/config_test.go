package gbsim

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"testing"
	"time"
)

func TestIDs(t *testing.T) {
	for _, tc := range []struct {
		start         string
		n, per, ch    int
		device, chnID string
	}{
		{"34020000001320000001", 0, 4, 0, "34020000001320000001", "34020000001310000001"},
		{"34020000001320000001", 0, 4, 3, "34020000001320000001", "34020000001310000004"},
		{"34020000001320000001", 1, 4, 0, "34020000001320000002", "34020000001310000005"},
		{"34020000001320000000", 2, 16, 1, "34020000001320000002", "34020000001310000034"},
		{"44030500001180000100", 9, 2, 1, "44030500001180000109", "44030500001310000218"},
	} {
		d, err := deviceID(tc.start, tc.n)
		if err != nil || d != tc.device {
			t.Errorf("deviceID(%s, %d) = %s, %v; want %s", tc.start, tc.n, d, err, tc.device)
		}
		c, err := channelID(tc.start, tc.n, tc.per, tc.ch)
		if err != nil || c != tc.chnID {
			t.Errorf("channelID(%s, %d, %d, %d) = %s, %v; want %s", tc.start, tc.n, tc.per, tc.ch, c, err, tc.chnID)
		}
	}
	if _, err := deviceID("34020000001320999999", 1); err == nil {
		t.Error("device sequence overflow accepted")
	}
	if _, err := channelID("34020000001320900000", 0, 100, 0); err == nil {
		t.Error("channel sequence overflow accepted")
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"tcp mixed", func(c *Config) { c.Transport = "TCP"; c.Media = "Mixed" }, true},
		{"bad server", func(c *Config) { c.Server = "nohost" }, false},
		{"bad server id", func(c *Config) { c.ServerID = "123" }, false},
		{"no devices", func(c *Config) { c.Devices = 0 }, false},
		{"too many devices", func(c *Config) { c.Devices = 1_000_000 }, false},
		{"bad transport", func(c *Config) { c.Transport = "sctp" }, false},
		{"bad media", func(c *Config) { c.Media = "vp8" }, false},
		{"short expires", func(c *Config) { c.Expires = 10 }, false},
		{"bad clip size", func(c *Config) { c.ClipSize = "big" }, false},
		{"odd clip size", func(c *Config) { c.ClipSize = "641x480" }, false},
		{"bad percent", func(c *Config) { c.Faults.PacketLoss = 101 }, false},
		{"bad local ip", func(c *Config) { c.LocalIP = "localhost" }, false},
		{"zero per packet", func(c *Config) { c.UDPCatalogPerPacket = 0 }, false},
		{"no ffmpeg timeout", func(c *Config) { c.FFmpegTimeout = 0 }, false},
		{"negative clip wait", func(c *Config) { c.ClipWait = -time.Second }, false},
		{"no clip wait", func(c *Config) { c.ClipWait = 0 }, true},
		{"negative nat rebind", func(c *Config) { c.Faults.NATRebind = -time.Minute }, false},
		{"nat rebind", func(c *Config) { c.Faults.NATRebind = 2 * time.Minute }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
			if tc.ok && (c.Domain != "3402000000" || c.LocalIP == "") {
				t.Fatalf("Validate did not fill Domain/LocalIP: %q %q", c.Domain, c.LocalIP)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	c := DefaultConfig()
	fs := flag.NewFlagSet("gbsim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	err := fs.Parse([]string{
		"-server", "10.0.0.5:15060", "-server-id", "44030000002000000001", "-domain", "4403000000",
		"-devices", "16", "-channels", "2", "-password", "pw", "-sip-transport", "tcp", "-media", "mixed",
		"-fault-wrong-password", "2", "-fault-loss", "1.5", "-fault-tcp-disconnect", "5s", "-alarm-interval", "1m",
		"-fault-nat-rebind", "2m", "-clip-wait", "30s", "-ffmpeg-timeout", "5m",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server != "10.0.0.5:15060" || c.ServerID != "44030000002000000001" || c.Domain != "4403000000" || c.Devices != 16 ||
		c.Channels != 2 || c.Password != "pw" || c.Transport != "tcp" || c.Media != "mixed" || c.Faults.WrongPassword != 2 ||
		c.Faults.PacketLoss != 1.5 || c.Faults.TCPDisconnect.Seconds() != 5 || c.Faults.AlarmInterval.Minutes() != 1 ||
		c.Faults.NATRebind != 2*time.Minute || c.ClipWait != 30*time.Second || c.FFmpegTimeout != 5*time.Minute {
		t.Fatalf("flags not bound: %+v", c)
	}
	for _, name := range []string{
		"server", "server-id", "domain", "devices", "channels", "password", "sip-transport", "media",
		"device-id-start", "local-ip", "keepalive", "expires", "register-rate", "media-off", "cache-dir",
		"fault-no-keepalive", "fault-keepalive-loss", "fault-reorder", "fault-duplicate", "fault-no-psm", "fault-lying-psm",
		"fault-invite-delay", "fault-nat-rebind", "clip-wait", "ffmpeg-timeout", "catalog-churn",
	} {
		if fs.Lookup(name) == nil {
			t.Errorf("flag -%s missing", name)
		}
	}
}

// TestNamesUnique starts (without running) the fleets of `make run` and
// others, and checks that every device and every camera has a name of its
// own: a second simulator with another -device-id-start must not repeat the
// first one's "模拟设备 001" and "大门口 01".
func TestNamesUnique(t *testing.T) {
	type fleet struct {
		start             string
		devices, channels int
	}
	for _, tc := range []struct {
		name   string
		fleets []fleet
		// first device and camera names of each fleet
		devices, cameras []string
	}{
		{
			"make run: 3 over UDP and 1 over TCP",
			[]fleet{{"34020000001320000001", 3, 4}, {"34020000001320000101", 1, 4}},
			[]string{"模拟设备 001", "模拟设备 101"},
			[]string{"大门口 01", "大门口 401"},
		},
		{
			"adjacent starts",
			[]fleet{{"34020000001320000001", 2, 16}, {"34020000001320000003", 2, 16}},
			[]string{"模拟设备 001", "模拟设备 003"},
			[]string{"大门口 01", "大门口 33"},
		},
		{
			"sequence from zero and a seventh serial digit",
			[]fleet{{"34020000001320000000", 2, 3}, {"34020000001321000000", 2, 3}},
			[]string{"模拟设备 000", "模拟设备 1000000"},
			[]string{"大门口 01", "大门口 1000001"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]string{} // name -> ID
			for i, f := range tc.fleets {
				cfg := DefaultConfig()
				cfg.DeviceIDStart, cfg.Devices, cfg.Channels = f.start, f.devices, f.channels
				s, err := New(cfg, slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(s.Close)
				if got := s.devices[0].name; got != tc.devices[i] {
					t.Errorf("fleet %s: first device %q, want %q", f.start, got, tc.devices[i])
				}
				if got := s.devices[0].channels[0].catalogItem().Name; got != tc.cameras[i] {
					t.Errorf("fleet %s: first camera %q, want %q", f.start, got, tc.cameras[i])
				}
				for _, d := range s.devices {
					names := map[string]string{d.name: d.id}
					for _, c := range d.channels {
						names[c.catalogItem().Name] = c.id
					}
					for name, id := range names {
						if other, dup := seen[name]; dup {
							t.Errorf("%s and %s are both named %q", other, id, name)
						}
						seen[name] = id
					}
				}
			}
		})
	}
}

// TestParsePictures: -fault-picture takes channel=kind pairs of known
// kinds only.
func TestParsePictures(t *testing.T) {
	got, err := ParsePictures("34020000001310000011=black, 34020000001310000012=frozen,")
	if err != nil || len(got) != 2 || got["34020000001310000011"] != "black" || got["34020000001310000012"] != "frozen" {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"34020000001310000011", "34020000001310000011=purple", "abc=black", "=black"} {
		if _, err := ParsePictures(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
