package config

// Console is the configuration of cmd/console (HTTP: public API and web UI).
type Console struct {
	Base `yaml:",inline"`
}

// SetDefaults implements Service.
func (c *Console) SetDefaults() { c.setDefaults(":8080") }

// Validate implements Service.
func (c *Console) Validate() error { return c.validate() }
