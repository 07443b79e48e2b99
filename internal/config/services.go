package config

import "errors"

// Base holds the sections every database-backed service has. It is inlined in YAML.
type Base struct {
	Log      Log      `yaml:"log"`
	Database Database `yaml:"database"`
	// HTTP serves the service's API, health probes and /metrics.
	HTTP HTTP `yaml:"http"`
}

func (b *Base) setDefaults(listen string) {
	b.Log.setDefaults()
	b.Database.setDefaults()
	b.HTTP.setDefaults(listen)
}

func (b *Base) validate() error {
	return errors.Join(b.Log.validate(), b.Database.validate(), b.HTTP.validate())
}

// Sipserver is the configuration of cmd/sipserver (HTTP: internal API).
type Sipserver struct {
	Base `yaml:",inline"`
	// ServiceToken authenticates console and mediagw on the internal API
	// (Authorization: Bearer). Empty disables the internal API.
	ServiceToken Secret `yaml:"service_token"`
	SIP          SIP    `yaml:"sip"`
	// Sessions configures media sessions (INVITE) and the mediagw node they use.
	Sessions Sessions `yaml:"sessions"`
}

// SetDefaults implements Service.
func (c *Sipserver) SetDefaults() {
	c.setDefaults(":8081")
	c.SIP.setDefaults()
	c.Sessions.setDefaults()
}

// Validate implements Service.
func (c *Sipserver) Validate() error {
	var errs []error
	if c.ServiceToken != "" && len(c.ServiceToken) < 16 {
		errs = append(errs, fieldErr("service_token", "must have at least 16 characters"))
	}
	return errors.Join(c.validate(), c.SIP.validate(), c.Sessions.validate(), errors.Join(errs...))
}

// Recorder is the configuration of cmd/recorder (HTTP: probes, metrics,
// playback, the internal export API).
type Recorder struct {
	Base `yaml:",inline"`
	// ServiceToken authenticates the recorder on mediagw's internal API
	// (play tokens). Empty: nothing can be recorded (every channel gets a
	// stream_error gap saying so).
	ServiceToken Secret `yaml:"service_token"`
	// PlayTokenSecret checks the play tokens of playback (HLS VOD): the
	// secret mediagw and the console share (≥ 32 characters). Empty: the
	// playback routes answer 503.
	PlayTokenSecret Secret           `yaml:"play_token_secret"`
	Recorder        RecorderSettings `yaml:"recorder"`
	Storage         Storage          `yaml:"storage"`
	Exports         Exports          `yaml:"exports"`
	Playback        Playback         `yaml:"playback"`
}

// SetDefaults implements Service.
func (c *Recorder) SetDefaults() {
	c.setDefaults(":8082")
	c.Recorder.setDefaults()
	c.Storage.setDefaults()
	c.Exports.setDefaults()
	c.Playback.setDefaults()
}

// Validate implements Service.
func (c *Recorder) Validate() error {
	var errs []error
	if c.ServiceToken != "" && len(c.ServiceToken) < 16 {
		errs = append(errs, fieldErr("service_token", "must have at least 16 characters"))
	}
	return errors.Join(c.validate(), c.Recorder.validate(), c.Storage.validate(), c.Exports.validate(),
		c.Playback.validate(), validPlaybackSecret(c.PlayTokenSecret), errors.Join(errs...))
}

// LogConfig returns the log section.
func (b *Base) LogConfig() Log { return b.Log }

// LogConfig returns the log section.
func (c *Mediagw) LogConfig() Log { return c.Log }
