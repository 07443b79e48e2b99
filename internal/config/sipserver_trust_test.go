package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
)

// TestSipserverExampleIsDefaults: configs/sipserver.yaml shows every key
// with its default, the trust settings included.
func TestSipserverExampleIsDefaults(t *testing.T) {
	var c config.Sipserver
	if _, err := config.Load("../../configs/sipserver.yaml", &c, nil); err != nil {
		t.Fatalf("example config: %v", err)
	}
	var d config.Sipserver
	d.SetDefaults()
	if c.SIP != d.SIP || c.Sessions != d.Sessions {
		t.Errorf("configs/sipserver.yaml differs from the defaults:\n%+v\n%+v\n%+v\n%+v", c.SIP, d.SIP, c.Sessions, d.Sessions)
	}
	if d.SIP.RateSources != 65536 || d.Sessions.MediaNodeGrace.Std() != 5*time.Second {
		t.Errorf("defaults: rate_sources %d, media_node_grace %s", d.SIP.RateSources, d.Sessions.MediaNodeGrace)
	}
}

func TestSipserverTrustValidation(t *testing.T) {
	for _, tc := range []struct {
		key string
		mod func(*config.Sipserver)
	}{
		{"sip.rate_sources", func(c *config.Sipserver) { c.SIP.RateSources = 10 }},
		{"sessions.media_node_grace", func(c *config.Sipserver) { c.Sessions.MediaNodeGrace = config.Duration(100 * time.Millisecond) }},
		{"sessions.media_node_grace", func(c *config.Sipserver) { c.Sessions.MediaNodeGrace = config.Duration(time.Hour) }},
	} {
		var c config.Sipserver
		c.SetDefaults()
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: err = %v", tc.key, err)
		}
		if err != nil && !errors.Is(err, config.ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", tc.key, err)
		}
	}
}
