package regions

import (
	"testing"
)

// TestNames: the embedded data parses and names the levels of a code.
func TestNames(t *testing.T) {
	for code, want := range map[string]string{
		"34": "安徽省", "3402": "芜湖市", "340202": "镜湖区", "11": "北京市", "1101": "市辖区", "32": "江苏省",
	} {
		if got, ok := Name(code); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", code, got, ok, want)
		}
	}
	for _, code := range []string{"", "3", "99", "340299", "34020201"} {
		if got, ok := Name(code); ok {
			t.Errorf("%s named %q", code, got)
		}
	}
	if got := Path("34020201"); len(got) != 3 || got[0].Name != "安徽省" || got[1].Name != "芜湖市" || got[2].Name != "镜湖区" {
		t.Errorf("path %+v", got)
	}
	if got := Path("3"); len(got) != 0 {
		t.Errorf("path of a short code %+v", got)
	}
	loadOnce.Do(load)
	if len(names) < 3000 {
		t.Errorf("%d divisions", len(names))
	}
}
