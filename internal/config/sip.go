package config

import (
	"errors"
	"net"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
)

// SIP configures sipserver's GB28181 signalling.
type SIP struct {
	// ID is the platform's 20-digit SIP ID (type code 200, center server).
	ID string `yaml:"id"`
	// Domain is the SIP domain and digest realm: the first 10 digits of ID.
	Domain string `yaml:"domain"`
	// Listen is the host:port of the UDP and TCP listeners (one port for both).
	Listen string `yaml:"listen"`
	// Advertise is the IP put in Via and Contact of requests to devices.
	// Empty: the listen host when it is a specific IP, else the host's outbound IP.
	Advertise string `yaml:"advertise"`
	// Password is the default device password; a device's own password overrides it.
	// Empty: only devices with their own password can register.
	Password Secret `yaml:"password"`
	// AutoRegister creates unknown devices that authenticate with Password;
	// false answers them 403 until an administrator adds them.
	AutoRegister bool `yaml:"auto_register"`
	// MinExpires and MaxExpires bound the registration period granted.
	MinExpires Duration `yaml:"min_expires"`
	MaxExpires Duration `yaml:"max_expires"`
	// NonceTTL is how long a digest nonce stays valid.
	NonceTTL Duration `yaml:"nonce_ttl"`
	// AuthFailures wrong passwords for one device from one IP block that pair for AuthBlock.
	AuthFailures int      `yaml:"auth_failures"`
	AuthBlock    Duration `yaml:"auth_block"`
	// HeartbeatInterval and HeartbeatCount: a device is offline after
	// interval × count without a keepalive, unless it reported its own values.
	HeartbeatInterval Duration `yaml:"heartbeat_interval"`
	HeartbeatCount    int      `yaml:"heartbeat_count"`
	// RequestTimeout bounds a query to a device (until its last response packet).
	RequestTimeout Duration `yaml:"request_timeout"`
	// OneRequestPerDevice sends a device its next query only after the last
	// one was answered: some NVRs mix up concurrent answers.
	OneRequestPerDevice bool `yaml:"one_request_per_device"`
	// QueryRate is how many devices per second get their post-registration
	// queries (DeviceInfo, Catalog, SUBSCRIBE, ConfigDownload) started, sent
	// together; a registration storm waits in a queue at this pace, while
	// devices that never answer hold no slot anyone else waits for.
	QueryRate float64 `yaml:"query_rate"`
	// CatalogSubscribe subscribes to catalog changes of every device for CatalogSubscribeExpires.
	CatalogSubscribe        bool     `yaml:"catalog_subscribe"`
	CatalogSubscribeExpires Duration `yaml:"catalog_subscribe_expires"`
	// CatalogInterval re-queries the catalog of devices that refuse SUBSCRIBE; 0 disables.
	CatalogInterval Duration `yaml:"catalog_interval"`
	// RateLimit messages per second (burst RateBurst) from one source IP,
	// whatever its ports: a NAT with many cameras behind it counts as one.
	RateLimit float64 `yaml:"rate_limit"`
	RateBurst int     `yaml:"rate_burst"`
	// RateSources bounds the number of source IPs the UDP rate limit tracks
	// (least recently seen forgotten first), so a spoofed flood cannot grow it.
	RateSources int `yaml:"rate_sources"`
	// MaxMessageSize refuses larger SIP messages with 413.
	MaxMessageSize ByteSize `yaml:"max_message_size"`
	// FlushInterval batches state changes before they are written to PostgreSQL.
	FlushInterval Duration `yaml:"flush_interval"`
}

func (s *SIP) setDefaults() {
	*s = SIP{
		ID:                      "34020000002000000001",
		Domain:                  "3402000000",
		Listen:                  ":5060",
		AutoRegister:            true,
		MinExpires:              Duration(60 * time.Second),
		MaxExpires:              Duration(24 * time.Hour),
		NonceTTL:                Duration(10 * time.Minute),
		AuthFailures:            5,
		AuthBlock:               Duration(10 * time.Minute),
		HeartbeatInterval:       Duration(60 * time.Second),
		HeartbeatCount:          3,
		RequestTimeout:          Duration(10 * time.Second),
		QueryRate:               500,
		CatalogSubscribe:        true,
		CatalogSubscribeExpires: Duration(time.Hour),
		CatalogInterval:         Duration(time.Hour),
		RateLimit:               200,
		RateBurst:               400,
		RateSources:             65536,
		MaxMessageSize:          64 << 10,
		FlushInterval:           Duration(200 * time.Millisecond),
	}
}

func (s SIP) validate() error {
	var errs []error
	id, err := ids.Parse(s.ID)
	switch {
	case err != nil:
		errs = append(errs, fieldErr("sip.id", "%v", err))
	case len(s.ID) != 20:
		errs = append(errs, fieldErr("sip.id", "must have 20 digits, got %d", len(s.ID)))
	case !id.Type.IsPlatform():
		errs = append(errs, fieldErr("sip.id", "type code %s is not a central signalling server (200)", s.ID[10:13]))
	}
	if len(s.Domain) != 10 || !allDigits(s.Domain) {
		errs = append(errs, fieldErr("sip.domain", "must be 10 digits, got %q", s.Domain))
	}
	if err := validateListen(s.Listen); err != nil {
		errs = append(errs, fieldErr("sip.listen", "%v", err))
	}
	if s.Advertise != "" && net.ParseIP(s.Advertise) == nil {
		errs = append(errs, fieldErr("sip.advertise", "must be an IP address, got %q", s.Advertise))
	}
	if s.MinExpires < Duration(10*time.Second) || s.MaxExpires < s.MinExpires {
		errs = append(errs, fieldErr("sip.min_expires", "need 10s ≤ min_expires ≤ max_expires, got %s and %s", s.MinExpires, s.MaxExpires))
	}
	positive := []struct {
		key string
		ok  bool
	}{
		{"sip.nonce_ttl", s.NonceTTL > 0},
		{"sip.auth_failures", s.AuthFailures > 0},
		{"sip.auth_block", s.AuthBlock > 0},
		{"sip.heartbeat_interval", s.HeartbeatInterval > 0},
		{"sip.heartbeat_count", s.HeartbeatCount > 0},
		{"sip.request_timeout", s.RequestTimeout > 0},
		{"sip.query_rate", s.QueryRate > 0},
		{"sip.catalog_subscribe_expires", s.CatalogSubscribeExpires >= Duration(time.Minute)},
		{"sip.catalog_interval", s.CatalogInterval >= 0},
		{"sip.rate_limit", s.RateLimit > 0},
		{"sip.rate_burst", s.RateBurst > 0},
		{"sip.rate_sources", s.RateSources >= 64},
		{"sip.max_message_size", s.MaxMessageSize >= 4<<10},
		{"sip.flush_interval", s.FlushInterval > 0 && s.FlushInterval <= Duration(10*time.Second)},
	}
	for _, p := range positive {
		if !p.ok {
			errs = append(errs, fieldErr(p.key, "out of range"))
		}
	}
	return errors.Join(errs...)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// QueryBurst is how many queued devices may start at once after a quiet
// spell: a tenth of a second's worth of QueryRate, at least one.
func (s SIP) QueryBurst() int { return max(1, int(s.QueryRate/10)) }
