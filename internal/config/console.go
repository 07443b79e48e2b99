package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ConsoleMedia says where browsers and players reach mediagw and how their
// play tokens are signed.
type ConsoleMedia struct {
	// PublicURL is the base of the WHEP and HLS URLs handed to browsers
	// (mediagw's http.listen as the browser reaches it).
	PublicURL string `yaml:"public_url"`
	// RTSPURL is the base of the RTSP URLs (mediagw's rtsp.listen as players
	// reach it).
	RTSPURL string `yaml:"rtsp_url"`
	// PlayTokenSecret is the HMAC secret shared with mediagw and the
	// recorders (≥ 32 characters). Empty disables play and playback (503).
	PlayTokenSecret Secret `yaml:"play_token_secret"`
	// PlayTokenTTL is how long a play token opens its stream.
	PlayTokenTTL Duration `yaml:"play_token_ttl"`
}

// ConsoleAuth configures logins and sessions.
type ConsoleAuth struct {
	// SessionTTL is how long a login lasts.
	SessionTTL Duration `yaml:"session_ttl"`
	// MaxFailures consecutive failed logins lock an account for Lockout.
	// The lock-out keys on (username, client address), so that nobody can
	// keep an account locked from elsewhere. The password change route
	// counts its wrong old passwords apart, per user from whatever address
	// (a stolen session must not guess from many): MaxFailures of them lock
	// that user's password change for Lockout.
	MaxFailures int      `yaml:"max_failures"`
	Lockout     Duration `yaml:"lockout"`
	// IPMaxFailures failed password checks from one client address (an
	// IPv6 client: its /64) within IPWindow, whatever the usernames — failed
	// logins, refused login bodies, wrong old passwords — refuse every login
	// and password change from it for IPWindow (password spraying).
	IPMaxFailures int      `yaml:"ip_max_failures"`
	IPWindow      Duration `yaml:"ip_window"`
	// TrustedProxies are the addresses (CIDRs or IPs) of the reverse proxies
	// in front of the console. Only requests from them have their
	// X-Forwarded-For (the client address in the audit log and the
	// lock-out) and X-Forwarded-Proto (the Secure cookie flag) believed.
	TrustedProxies CIDRList `yaml:"trusted_proxies"`
	// InitialAdminPassword is the password of the "admin" user created when
	// the database has no user; it must be changed at the first login.
	// Empty means DefaultAdminPassword: a Secret is masked when printed, and
	// an empty default keeps -print-config's output loadable.
	InitialAdminPassword Secret `yaml:"initial_admin_password"`
	// PasswordMinLength is the fewest characters of a new password (not
	// bytes: 8 Chinese characters are 8).
	PasswordMinLength int `yaml:"password_min_length"`
	// PasswordMinClasses is how many of the four character classes — lower
	// case, upper case, digits, others — a new password must mix (1–4).
	PasswordMinClasses int `yaml:"password_min_classes"`
	// PasswordHistory refuses a new password equal to the current one or
	// one of the PasswordHistory-1 before it (1–24).
	PasswordHistory int `yaml:"password_history"`
}

// DefaultAdminPassword is the initial admin password when
// auth.initial_admin_password is empty.
const DefaultAdminPassword = "admin"

// AdminPassword returns the initial admin password in effect.
func (a ConsoleAuth) AdminPassword() string {
	if a.InitialAdminPassword == "" {
		return DefaultAdminPassword
	}
	return string(a.InitialAdminPassword)
}

// ConsoleAccounts configures account hygiene (DB3205 §8 c).
type ConsoleAccounts struct {
	// DormantAfter disables, by a daily job, the accounts nobody logged in
	// to for that long (counted from the latest of creation, last login and
	// re-enabling); the admin sees why in the user's disabled_reason. The
	// last admin in use is never disabled. 0 turns the job off.
	DormantAfter Duration `yaml:"dormant_after"`
}

// ConsoleAudit configures the audit log.
type ConsoleAudit struct {
	// FailClosed refuses a video access (play, playback, export, PTZ)
	// and a login whose audit row cannot be written; false lets it through
	// with an error in the log. (The components themselves fail closed
	// unless told AuditFailOpen.) It does not apply to the media opens
	// mediagw reports: the internal API answers 503 whenever their row
	// cannot be stored, and mediagw's own audit.fail_closed decides.
	FailClosed bool `yaml:"fail_closed"`
	// Retention is how long audit rows are kept: a daily job deletes the
	// older ones. At least MinAuditRetention (等保 asks for 180 days; the
	// database refuses to delete a younger row whatever asks it).
	Retention Duration `yaml:"retention"`
}

// ConsoleProbe configures the camera health probes.
type ConsoleProbe struct {
	// FFmpeg is the ffmpeg binary that decodes the probes' frames.
	FFmpeg string `yaml:"ffmpeg"`
	// Timeout bounds one probe, the stream's start included.
	Timeout Duration `yaml:"timeout"`
	// MaxRunning bounds the probes asked for at once; more are refused
	// (503 busy).
	MaxRunning int `yaml:"max_running"`
	// Interval is how often every channel is probed by the schedule,
	// spread evenly over it; 0 turns the schedule off.
	Interval Duration `yaml:"interval"`
	// ScheduleRunning bounds the scheduled probes at once.
	ScheduleRunning int `yaml:"schedule_running"`
	// Thresholds decide a picture's faults; 0 keeps a threshold's default
	// (docs/kpi.md gives each).
	Thresholds ProbeThresholds `yaml:"thresholds"`
}

// ProbeThresholds are the picture diagnosis' thresholds (vqd.Thresholds).
type ProbeThresholds struct {
	BlackLuma      float64 `yaml:"black_luma"`
	DarkLuma       float64 `yaml:"dark_luma"`
	BrightLuma     float64 `yaml:"bright_luma"`
	FlatSpread     float64 `yaml:"flat_spread"`
	Sharpness      float64 `yaml:"sharpness"`
	Noise          float64 `yaml:"noise"`
	CastDistance   float64 `yaml:"cast_distance"`
	CastRatio      float64 `yaml:"cast_ratio"`
	OcclusionShare float64 `yaml:"occlusion_share"`
	FrozenDiff     float64 `yaml:"frozen_diff"`
}

// MinAuditRetention is the shortest audit.retention: 180 days, what 等保
// requires and what migration 00010's guard enforces (consoledb's
// MinAuditRetention is the same figure).
const MinAuditRetention = Duration(180 * 24 * time.Hour)

// CIDRList is a list of address prefixes, kept as a comma-separated string
// so that the configuration stays comparable. YAML takes a list or a
// comma-separated string; a bare IP is a one-address prefix.
type CIDRList string

// parseCIDRList parses "10.0.0.0/8, 192.0.2.7" (empty: no prefix).
func parseCIDRList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			if a := p.Addr(); a.Is4In6() {
				// Addresses are compared unmapped: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
				if p.Bits() < 96 {
					return nil, fmt.Errorf("%q mixes IPv4-mapped and IPv6 addresses", item)
				}
				p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is not an IP address or CIDR prefix", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// Prefixes returns the parsed list: bare IPs as one-address prefixes,
// IPv4-mapped ones unmapped, every prefix masked.
func (l CIDRList) Prefixes() ([]netip.Prefix, error) { return parseCIDRList(string(l)) }

// UnmarshalText implements encoding.TextUnmarshaler (environment values).
// The value is checked by Validate, which names the key.
func (l *CIDRList) UnmarshalText(b []byte) error {
	var items []string
	for item := range strings.SplitSeq(string(b), ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	*l = CIDRList(strings.Join(items, ","))
	return nil
}

// UnmarshalYAML takes a list of strings or one comma-separated string.
func (l *CIDRList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.SequenceNode:
		var items []string
		if err := n.Decode(&items); err != nil {
			return err
		}
		return l.UnmarshalText([]byte(strings.Join(items, ",")))
	case yaml.ScalarNode:
		return l.UnmarshalText([]byte(n.Value))
	}
	return fmt.Errorf("line %d: want a list of CIDR prefixes", n.Line)
}

// MarshalYAML prints the list as a YAML list (loadable again).
func (l CIDRList) MarshalYAML() (any, error) {
	if l == "" {
		return []string{}, nil
	}
	return strings.Split(string(l), ","), nil
}

// Console is the configuration of cmd/console (HTTP: public API and web UI).
type Console struct {
	Base `yaml:",inline"`
	// SipserverURL is sipserver's internal API (PTZ, records, sessions).
	SipserverURL string `yaml:"sipserver_url"`
	// ServiceToken authenticates the console on sipserver's and the
	// recorder nodes' internal APIs. Empty: every call to sipserver and
	// every export answers 503.
	ServiceToken Secret          `yaml:"service_token"`
	Media        ConsoleMedia    `yaml:"media"`
	Auth         ConsoleAuth     `yaml:"auth"`
	Accounts     ConsoleAccounts `yaml:"accounts"`
	Audit        ConsoleAudit    `yaml:"audit"`
	Probe        ConsoleProbe    `yaml:"probe"`
}

// SetDefaults implements Service.
func (c *Console) SetDefaults() {
	c.setDefaults(":8080")
	c.SipserverURL = "http://127.0.0.1:8081"
	c.Media = ConsoleMedia{
		PublicURL:    "http://127.0.0.1:8888",
		RTSPURL:      "rtsp://127.0.0.1:8554",
		PlayTokenTTL: Duration(5 * time.Minute),
	}
	c.Auth = ConsoleAuth{
		SessionTTL:    Duration(12 * time.Hour),
		MaxFailures:   5,
		Lockout:       Duration(15 * time.Minute),
		IPMaxFailures: 30,
		IPWindow:      Duration(15 * time.Minute),
		// DB3205 §8 d asks for forced changes, not for rules; 8 characters of
		// any kind, and not the last 5, are what a newcomer can live with.
		PasswordMinLength:  8,
		PasswordMinClasses: 1,
		PasswordHistory:    5,
	}
	c.Accounts = ConsoleAccounts{DormantAfter: Duration(2 * 365 * 24 * time.Hour)}
	c.Audit = ConsoleAudit{FailClosed: true, Retention: MinAuditRetention}
	c.Probe = ConsoleProbe{
		FFmpeg: "ffmpeg", Timeout: Duration(20 * time.Second), MaxRunning: 4,
		Interval: Duration(2 * time.Hour), ScheduleRunning: 2,
	}
}

// Validate implements Service.
func (c *Console) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) { errs = append(errs, fieldErr(key, format, args...)) }
	for _, u := range []struct {
		key, v  string
		schemes []string
	}{
		{"sipserver_url", c.SipserverURL, []string{"http", "https"}},
		{"media.public_url", c.Media.PublicURL, []string{"http", "https"}},
		{"media.rtsp_url", c.Media.RTSPURL, []string{"rtsp", "rtsps"}},
	} {
		p, err := url.Parse(u.v)
		if err != nil || p.Host == "" || (p.Scheme != u.schemes[0] && p.Scheme != u.schemes[1]) {
			add(u.key, "must be a %s(s) URL, got %q", u.schemes[0], u.v)
			continue
		}
		if p.RawQuery != "" || p.Fragment != "" {
			add(u.key, "must have no query or fragment, got %q", u.v)
		}
	}
	if c.ServiceToken != "" && len(c.ServiceToken) < 16 {
		add("service_token", "must have at least 16 characters")
	}
	if c.Media.PlayTokenSecret != "" && len(c.Media.PlayTokenSecret) < 32 {
		add("media.play_token_secret", "must have at least 32 characters")
	}
	if c.Media.PlayTokenTTL < Duration(10*time.Second) || c.Media.PlayTokenTTL > Duration(24*time.Hour) {
		add("media.play_token_ttl", "must be between 10s and 24h, got %s", c.Media.PlayTokenTTL)
	}
	if c.Auth.SessionTTL < Duration(time.Minute) || c.Auth.SessionTTL > Duration(90*24*time.Hour) {
		add("auth.session_ttl", "must be between 1m and 90d, got %s", c.Auth.SessionTTL)
	}
	if c.Auth.MaxFailures < 1 || c.Auth.MaxFailures > 100 {
		add("auth.max_failures", "must be between 1 and 100, got %d", c.Auth.MaxFailures)
	}
	if c.Auth.Lockout <= 0 {
		add("auth.lockout", "must be positive, got %s", c.Auth.Lockout)
	}
	if c.Auth.IPMaxFailures < 1 || c.Auth.IPMaxFailures > 100000 {
		add("auth.ip_max_failures", "must be between 1 and 100000, got %d", c.Auth.IPMaxFailures)
	}
	if c.Auth.IPWindow <= 0 {
		add("auth.ip_window", "must be positive, got %s", c.Auth.IPWindow)
	}
	if _, err := c.Auth.TrustedProxies.Prefixes(); err != nil {
		add("auth.trusted_proxies", "%v", err)
	}
	if n := len(c.Auth.InitialAdminPassword); n != 0 && (n < 4 || n > 256) {
		add("auth.initial_admin_password", "must have 4 to 256 characters (it is changed at the first login)")
	}
	if c.Auth.PasswordMinLength < 4 || c.Auth.PasswordMinLength > 128 {
		add("auth.password_min_length", "must be between 4 and 128, got %d", c.Auth.PasswordMinLength)
	}
	if c.Auth.PasswordMinClasses < 1 || c.Auth.PasswordMinClasses > 4 {
		add("auth.password_min_classes", "must be between 1 and 4, got %d", c.Auth.PasswordMinClasses)
	}
	if c.Auth.PasswordHistory < 1 || c.Auth.PasswordHistory > 24 {
		add("auth.password_history", "must be between 1 and 24, got %d", c.Auth.PasswordHistory)
	}
	if d := c.Accounts.DormantAfter; d != 0 && d < Duration(24*time.Hour) {
		add("accounts.dormant_after", "must be 0 (off) or at least 1d, got %s", d)
	}
	if c.Probe.FFmpeg == "" {
		add("probe.ffmpeg", "must name the ffmpeg binary")
	}
	if c.Probe.Timeout < Duration(5*time.Second) || c.Probe.Timeout > Duration(5*time.Minute) {
		add("probe.timeout", "must be between 5s and 5m, got %s", c.Probe.Timeout)
	}
	if c.Probe.MaxRunning < 1 || c.Probe.MaxRunning > 64 {
		add("probe.max_running", "must be between 1 and 64, got %d", c.Probe.MaxRunning)
	}
	if c.Probe.Interval != 0 && c.Probe.Interval < Duration(time.Minute) {
		add("probe.interval", "must be 0 (off) or at least 1m, got %s", c.Probe.Interval)
	}
	if c.Probe.ScheduleRunning < 1 || c.Probe.ScheduleRunning > 64 {
		add("probe.schedule_running", "must be between 1 and 64, got %d", c.Probe.ScheduleRunning)
	}
	th := c.Probe.Thresholds
	for _, f := range []struct {
		key string
		v   float64
	}{
		{"black_luma", th.BlackLuma},
		{"dark_luma", th.DarkLuma},
		{"bright_luma", th.BrightLuma},
		{"flat_spread", th.FlatSpread},
		{"sharpness", th.Sharpness},
		{"noise", th.Noise},
		{"cast_distance", th.CastDistance},
		{"cast_ratio", th.CastRatio},
		{"frozen_diff", th.FrozenDiff},
	} {
		if f.v < 0 || f.v > 100000 {
			add("probe.thresholds."+f.key, "must be 0 (the default) or a positive figure, got %v", f.v)
		}
	}
	if th.OcclusionShare < 0 || th.OcclusionShare > 1 {
		add("probe.thresholds.occlusion_share", "must be between 0 and 1, got %v", th.OcclusionShare)
	}
	if c.Audit.Retention < MinAuditRetention {
		add("audit.retention", "must be at least %s (180 days, 等保), got %s", MinAuditRetention, c.Audit.Retention)
	}
	return errors.Join(c.validate(), errors.Join(errs...))
}
