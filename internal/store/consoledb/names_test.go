package consoledb_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

// TestValidNames: a platform's renumbering is checked entry by entry.
func TestValidNames(t *testing.T) {
	ok := consoledb.ExposedName{ChannelID: "34020000001310000001", ExposedID: "34010000001310000042", Name: "城市编号"}
	for _, tc := range []struct {
		name  string
		names []consoledb.ExposedName
		valid bool
	}{
		{"none", nil, true},
		{"one", []consoledb.ExposedName{ok}, true},
		{"no channel", []consoledb.ExposedName{{ExposedID: ok.ExposedID}}, false},
		{"short exposed ID", []consoledb.ExposedName{{ChannelID: ok.ChannelID, ExposedID: "3401"}}, false},
		{"letters", []consoledb.ExposedName{{ChannelID: ok.ChannelID, ExposedID: "3401000000131000004x"}}, false},
		{"long name", []consoledb.ExposedName{{ChannelID: ok.ChannelID, ExposedID: ok.ExposedID, Name: strings.Repeat("名", 129)}}, false},
		{"128 characters", []consoledb.ExposedName{{ChannelID: ok.ChannelID, ExposedID: ok.ExposedID, Name: strings.Repeat("名", 128)}}, true},
		{"bad UTF-8", []consoledb.ExposedName{{ChannelID: ok.ChannelID, ExposedID: ok.ExposedID, Name: "\xff"}}, false},
		{"channel twice", []consoledb.ExposedName{ok, {ChannelID: ok.ChannelID, ExposedID: "34010000001310000043"}}, false},
		{"exposed ID twice", []consoledb.ExposedName{ok, {ChannelID: "34020000001310000002", ExposedID: ok.ExposedID}}, false},
	} {
		err := consoledb.ValidNames(tc.names)
		if (err == nil) != tc.valid || (err != nil && !errors.Is(err, store.ErrInvalid)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
