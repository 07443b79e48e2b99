package gbsim

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
)

// Media codec choices of Config.Media.
const (
	MediaH264  = "h264"
	MediaH265  = "h265"
	MediaMixed = "mixed"
)

// Config is the whole simulator configuration. RegisterFlags binds it to
// command-line flags; the zero value is not usable, start from DefaultConfig.
type Config struct {
	// Server is the platform's SIP address, host:port.
	Server string
	// ServerID is the platform's 20-digit SIP ID.
	ServerID string
	// Domain is the SIP domain and digest realm; empty means the first 10
	// digits of ServerID.
	Domain string
	// Devices is the number of simulated devices.
	Devices int
	// Channels is the number of camera channels per device.
	Channels int
	// DeviceIDStart is the ID of the first device; the others follow in
	// sequence (the last 6 digits).
	DeviceIDStart string
	// Password is the digest password of every device.
	Password string
	// Transport is the SIP transport, "udp" or "tcp".
	Transport string
	// LocalIP is the address devices bind to and announce; empty picks the
	// address that routes to Server.
	LocalIP string
	// Keepalive is the keepalive period.
	Keepalive time.Duration
	// Expires is the registration lifetime requested, in seconds.
	Expires int
	// RegisterRate bounds initial REGISTERs per second across all devices.
	RegisterRate float64
	// Media is h264, h265 or mixed (channels alternate).
	Media string
	// MediaOff refuses INVITEs (signalling-only load tests).
	MediaOff bool
	// CacheDir holds the clips generated with ffmpeg.
	CacheDir string
	// ClipSize is the WxH of generated clips.
	ClipSize string
	// FFmpeg is the ffmpeg binary; empty or missing selects the built-in
	// synthetic source.
	FFmpeg string
	// FFmpegTimeout bounds one ffmpeg run generating a clip (a clip takes
	// up to three: video with text, video without, audio).
	FFmpegTimeout time.Duration
	// ClipWait is how long a channel's first stream waits for ffmpeg to
	// produce its clip before it starts with the synthetic source (it
	// switches to the clip at the next loop).
	ClipWait time.Duration
	// UDPCatalogPerPacket and TCPCatalogPerPacket bound the items of one
	// Catalog or RecordInfo MESSAGE (Annex N): small over UDP so that a
	// message stays below ~1300 bytes.
	UDPCatalogPerPacket int
	TCPCatalogPerPacket int
	// CatalogChurn toggles a channel OFF/ON every period for catalog
	// subscribers; 0 disables it.
	CatalogChurn time.Duration

	// Faults to inject.
	Faults Faults
}

// Faults lists the injectable faults. Counts apply to the first devices.
type Faults struct {
	// WrongPassword is how many devices (the first ones) use a wrong password.
	WrongPassword int
	// NoKeepalive is how many devices, after the wrong-password ones, never
	// send a keepalive, so the platform times them out.
	NoKeepalive int
	// NoAnswer is how many devices, after the no-keepalive ones, answer no
	// query: MESSAGE and SUBSCRIBE get neither a SIP response nor a
	// MANSCDP answer, as devices behind a broken firmware or NAT do.
	NoAnswer int
	// KeepaliveLoss is the percentage of keepalives skipped at random.
	KeepaliveLoss float64
	// PacketLoss, Reorder and Duplicate are percentages of RTP packets
	// dropped, swapped with their successor or sent twice.
	PacketLoss float64
	Reorder    float64
	Duplicate  float64
	// NoPSM leaves out system header and PSM from the PS.
	NoPSM bool
	// LyingPSM announces the other video codec in the PSM.
	LyingPSM bool
	// TCPDisconnect closes a TCP media connection after this long; 0 never.
	TCPDisconnect time.Duration
	// InviteDelay answers INVITEs with 100 Trying and the final answer only
	// after this long (a CANCEL before then gets 487); 0 answers at once.
	InviteDelay time.Duration
	// AlarmInterval sends an alarm from every device at this period; 0 never.
	AlarmInterval time.Duration
	// Pictures gives channels a faulty picture, by channel ID: black,
	// frozen, dark, bright, blur, noise, cast (a colour cast) or
	// occlusion (ffmpeg's filters on the test picture), for the health
	// probes to find.
	Pictures map[string]string
	// NATRebind moves every device to a new local source port (a new UDP
	// socket, or a new TCP connection) at this period, as a carrier NAT
	// that changes the mapping does; 0 never. The device keeps its
	// registration until the platform refuses a request from the new port
	// (401, 403 or 404), then registers again at once.
	NATRebind time.Duration
}

// DefaultConfig returns the defaults of every setting: the development
// stack's platform on 127.0.0.1:5060, one device with four channels.
func DefaultConfig() Config {
	return Config{
		Server:              "127.0.0.1:5060",
		ServerID:            "34020000002000000001",
		Devices:             1,
		Channels:            4,
		DeviceIDStart:       "34020000001320000001",
		Password:            "12345678",
		Transport:           "udp",
		Keepalive:           60 * time.Second,
		Expires:             3600,
		RegisterRate:        100,
		Media:               MediaH264,
		CacheDir:            filepath.Join(os.TempDir(), "gbsim-cache"),
		ClipSize:            "1280x720",
		FFmpeg:              "ffmpeg",
		FFmpegTimeout:       2 * time.Minute,
		ClipWait:            8 * time.Second,
		UDPCatalogPerPacket: 2,
		TCPCatalogPerPacket: 20,
	}
}

// RegisterFlags binds c's fields to flags of fs, with c's current values as
// defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Server, "server", c.Server, "platform SIP address `host:port`")
	fs.StringVar(&c.ServerID, "server-id", c.ServerID, "platform 20-digit SIP ID")
	fs.StringVar(&c.Domain, "domain", c.Domain, "SIP domain and digest realm (default: first 10 digits of -server-id)")
	fs.IntVar(&c.Devices, "devices", c.Devices, "number of simulated devices")
	fs.IntVar(&c.Channels, "channels", c.Channels, "camera channels per device")
	fs.StringVar(&c.DeviceIDStart, "device-id-start", c.DeviceIDStart, "ID of the first device; the others follow in sequence")
	fs.StringVar(&c.Password, "password", c.Password, "digest password of every device")
	fs.StringVar(&c.Transport, "sip-transport", c.Transport, "SIP transport: udp or tcp")
	fs.StringVar(&c.LocalIP, "local-ip", c.LocalIP, "local address to bind and announce (default: the one routing to -server)")
	fs.DurationVar(&c.Keepalive, "keepalive", c.Keepalive, "keepalive period")
	fs.IntVar(&c.Expires, "expires", c.Expires, "registration lifetime requested, seconds")
	fs.Float64Var(&c.RegisterRate, "register-rate", c.RegisterRate, "initial REGISTERs per second across all devices")
	fs.StringVar(&c.Media, "media", c.Media, "video codec: h264, h265 or mixed (channels alternate)")
	fs.BoolVar(&c.MediaOff, "media-off", c.MediaOff, "refuse INVITEs (signalling-only load)")
	fs.StringVar(&c.CacheDir, "cache-dir", c.CacheDir, "directory for the clips generated with ffmpeg")
	fs.StringVar(&c.ClipSize, "clip-size", c.ClipSize, "size WxH of generated clips")
	fs.StringVar(&c.FFmpeg, "ffmpeg", c.FFmpeg, "ffmpeg binary; if missing a synthetic source is used")
	fs.DurationVar(&c.FFmpegTimeout, "ffmpeg-timeout", c.FFmpegTimeout, "bound of one ffmpeg run generating a clip")
	fs.DurationVar(&c.ClipWait, "clip-wait", c.ClipWait,
		"how long a channel's first stream waits for its clip before starting with the synthetic source")
	fs.IntVar(&c.UDPCatalogPerPacket, "catalog-per-packet-udp", c.UDPCatalogPerPacket, "catalog/record items per MESSAGE over UDP")
	fs.IntVar(&c.TCPCatalogPerPacket, "catalog-per-packet-tcp", c.TCPCatalogPerPacket, "catalog/record items per MESSAGE over TCP")
	fs.DurationVar(&c.CatalogChurn, "catalog-churn", c.CatalogChurn, "toggle a channel OFF/ON for catalog subscribers every period (0: never)")

	f := &c.Faults
	fs.IntVar(&f.WrongPassword, "fault-wrong-password", f.WrongPassword, "first `K` devices use a wrong password")
	fs.IntVar(&f.NoKeepalive, "fault-no-keepalive", f.NoKeepalive, "next `K` devices never send keepalives")
	fs.IntVar(&f.NoAnswer, "fault-no-answer", f.NoAnswer, "next `K` devices answer no MESSAGE or SUBSCRIBE (no SIP response either)")
	fs.Float64Var(&f.KeepaliveLoss, "fault-keepalive-loss", f.KeepaliveLoss, "`percent` of keepalives skipped")
	fs.Float64Var(&f.PacketLoss, "fault-loss", f.PacketLoss, "`percent` of RTP packets dropped")
	fs.Float64Var(&f.Reorder, "fault-reorder", f.Reorder, "`percent` of RTP packets swapped with the next one")
	fs.Float64Var(&f.Duplicate, "fault-duplicate", f.Duplicate, "`percent` of RTP packets sent twice")
	fs.BoolVar(&f.NoPSM, "fault-no-psm", f.NoPSM, "send PS without system header and PSM")
	fs.BoolVar(&f.LyingPSM, "fault-lying-psm", f.LyingPSM, "announce the other video codec in the PSM")
	fs.DurationVar(&f.TCPDisconnect, "fault-tcp-disconnect", f.TCPDisconnect, "close TCP media connections after this long (0: never)")
	fs.DurationVar(&f.InviteDelay, "fault-invite-delay", f.InviteDelay, "answer INVITEs only after this long, 100 Trying first (0: at once)")
	fs.DurationVar(&f.AlarmInterval, "alarm-interval", f.AlarmInterval, "send an alarm from every device at this period (0: never)")
	fs.Func("fault-picture", "faulty `pictures`: channel=kind,… with kind black, frozen, dark, bright, blur, noise, cast or occlusion",
		func(v string) error {
			pics, err := ParsePictures(v)
			if err != nil {
				return err
			}
			f.Pictures = pics
			return nil
		})
	fs.DurationVar(&f.NATRebind, "fault-nat-rebind", f.NATRebind,
		"move every device to a new source port at this period, as a NAT rebinding does; "+
			"it registers again when the platform refuses a request from the new port (0: never)")
}

// Validate checks c and fills Domain and LocalIP when empty.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Server); err != nil {
		return fmt.Errorf("%w: -server %q: %w", ErrConfig, c.Server, err)
	}
	if _, err := ids.Parse(c.ServerID); err != nil {
		return fmt.Errorf("%w: -server-id %q: %w", ErrConfig, c.ServerID, err)
	}
	if c.Domain == "" {
		d, err := ids.Domain(c.ServerID)
		if err != nil {
			return fmt.Errorf("%w: -server-id %q: %w", ErrConfig, c.ServerID, err)
		}
		c.Domain = d
	}
	if c.Devices < 1 || c.Channels < 1 {
		return fmt.Errorf("%w: -devices and -channels must be at least 1", ErrConfig)
	}
	if _, err := deviceID(c.DeviceIDStart, c.Devices-1); err != nil {
		return fmt.Errorf("%w: -device-id-start %q: %w", ErrConfig, c.DeviceIDStart, err)
	}
	if _, err := channelID(c.DeviceIDStart, c.Devices-1, c.Channels, c.Channels-1); err != nil {
		return fmt.Errorf("%w: -device-id-start %q: %w", ErrConfig, c.DeviceIDStart, err)
	}
	switch c.Transport = strings.ToLower(c.Transport); c.Transport {
	case "udp", "tcp":
	default:
		return fmt.Errorf("%w: -sip-transport %q: want udp or tcp", ErrConfig, c.Transport)
	}
	switch c.Media = strings.ToLower(c.Media); c.Media {
	case MediaH264, MediaH265, MediaMixed:
	default:
		return fmt.Errorf("%w: -media %q: want h264, h265 or mixed", ErrConfig, c.Media)
	}
	if c.Keepalive <= 0 || c.Expires < 60 || c.RegisterRate <= 0 {
		return fmt.Errorf("%w: -keepalive and -register-rate must be positive, -expires at least 60", ErrConfig)
	}
	if c.FFmpegTimeout <= 0 || c.ClipWait < 0 {
		return fmt.Errorf("%w: -ffmpeg-timeout must be positive, -clip-wait not negative", ErrConfig)
	}
	for name, d := range map[string]time.Duration{
		"fault-tcp-disconnect": c.Faults.TCPDisconnect, "fault-invite-delay": c.Faults.InviteDelay,
		"alarm-interval": c.Faults.AlarmInterval, "fault-nat-rebind": c.Faults.NATRebind, "catalog-churn": c.CatalogChurn,
	} {
		if d < 0 {
			return fmt.Errorf("%w: -%s %v: want 0 (off) or a positive duration", ErrConfig, name, d)
		}
	}
	if c.UDPCatalogPerPacket < 1 || c.TCPCatalogPerPacket < 1 {
		return fmt.Errorf("%w: catalog items per packet must be at least 1", ErrConfig)
	}
	if _, _, err := parseSize(c.ClipSize); err != nil {
		return fmt.Errorf("%w: -clip-size %q: %w", ErrConfig, c.ClipSize, err)
	}
	for name, p := range map[string]float64{
		"fault-keepalive-loss": c.Faults.KeepaliveLoss, "fault-loss": c.Faults.PacketLoss,
		"fault-reorder": c.Faults.Reorder, "fault-duplicate": c.Faults.Duplicate,
	} {
		if p < 0 || p > 100 {
			return fmt.Errorf("%w: -%s %v: want 0..100", ErrConfig, name, p)
		}
	}
	if c.LocalIP == "" {
		ip, err := routeIP(c.Server)
		if err != nil {
			return fmt.Errorf("%w: find local IP: %w", ErrConfig, err)
		}
		c.LocalIP = ip
	}
	if net.ParseIP(c.LocalIP) == nil {
		return fmt.Errorf("%w: -local-ip %q is not an IP address", ErrConfig, c.LocalIP)
	}
	return nil
}

// LogValue summarises the configuration for the start-up log line.
func (c *Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("server", c.Server), slog.String("server_id", c.ServerID),
		slog.String("domain", c.Domain), slog.Int("devices", c.Devices),
		slog.Int("channels", c.Channels), slog.String("transport", c.Transport),
		slog.String("media", c.Media), slog.Bool("media_off", c.MediaOff),
		slog.String("local_ip", c.LocalIP),
	)
}

// routeIP returns the local address the OS would use to reach server; a
// connected UDP socket sends nothing.
func routeIP(server string) (string, error) {
	c, err := net.Dial("udp", server)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}

func parseSize(s string) (w, h int, err error) {
	a, b, ok := strings.Cut(s, "x")
	if !ok {
		return 0, 0, fmt.Errorf("want WxH")
	}
	if w, err = strconv.Atoi(a); err != nil || w < 16 || w > 4096 || w%2 != 0 {
		return 0, 0, fmt.Errorf("bad width %q", a)
	}
	if h, err = strconv.Atoi(b); err != nil || h < 16 || h > 4096 || h%2 != 0 {
		return 0, 0, fmt.Errorf("bad height %q", b)
	}
	return w, h, nil
}

// serial is the serial number of a device or channel ID: its last seven
// digits (GB/T 28181 §D.1), as a number. The IDs gbsim makes are unique, so
// names built from it are unique too, also between simulators started with
// different -device-id-start values.
func serial(id string) int {
	n, _ := strconv.Atoi(id[len(id)-7:]) // every ID here has 20 digits
	return n
}

// deviceID returns the ID of device n (0-based): start with n added to its
// 6-digit sequence number.
func deviceID(start string, n int) (string, error) {
	if len(start) != ids.Length {
		return "", fmt.Errorf("want %d digits", ids.Length)
	}
	seq, err := strconv.Atoi(start[14:])
	if err != nil || seq < 0 {
		return "", fmt.Errorf("sequence %q is not numeric", start[14:])
	}
	if seq+n > 999999 {
		return "", fmt.Errorf("sequence overflows with %d devices", n+1)
	}
	return fmt.Sprintf("%s%06d", start[:14], seq+n), nil
}

// channelID returns the ID of channel ch of device n: type 131 (camera) in
// the device's center and industry, with sequence numbers allocated in
// blocks of perDevice so that IDs never collide between devices.
func channelID(start string, n, perDevice, ch int) (string, error) {
	dev, err := deviceID(start, n)
	if err != nil {
		return "", err
	}
	seq, _ := strconv.Atoi(dev[14:])
	if first, _ := strconv.Atoi(start[14:]); first > 0 {
		seq-- // device 1 gets channels 1..perDevice
	}
	s := seq*perDevice + ch + 1
	if s > 999999 {
		return "", fmt.Errorf("channel sequence overflows")
	}
	return fmt.Sprintf("%s131%s%06d", dev[:10], dev[13:14], s), nil
}

// PictureFaults are the kinds of faulty picture a channel can show, and
// the ffmpeg filter that makes each from the test picture ("" for those
// made otherwise: black is a black source, frozen its first frame held).
var PictureFaults = map[string]string{
	"black": "", "frozen": "",
	"dark":      "eq=brightness=-0.45",
	"bright":    "eq=brightness=0.6",
	"blur":      "gblur=sigma=10",
	"noise":     "noise=alls=80:allf=t",
	"cast":      "lutrgb=g=val*0.3:b=val*0.3",
	"occlusion": "drawbox=x=0:y=0:w=iw*0.6:h=ih:c=gray:t=fill",
}

// ParsePictures parses -fault-picture: channel=kind pairs, comma-separated.
func ParsePictures(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		ch, kind, ok := strings.Cut(pair, "=")
		if _, known := PictureFaults[kind]; !ok || !known {
			return nil, fmt.Errorf("%w: -fault-picture %q: want channel=kind, kind one of black, frozen, dark, bright, blur, "+
				"noise, cast, occlusion", ErrConfig, pair)
		}
		if _, err := ids.Parse(ch); err != nil {
			return nil, fmt.Errorf("%w: -fault-picture %q: %w", ErrConfig, pair, err)
		}
		out[ch] = kind
	}
	return out, nil
}
