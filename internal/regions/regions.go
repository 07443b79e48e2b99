// Package regions names China's administrative divisions by their codes
// (GB/T 2260: 2 digits a province, 4 a city, 6 a county), as GB/T 28181
// civil codes carry them, so that trees and reports say 安徽省 / 芜湖市 /
// 镜湖区 rather than 34 / 3402 / 340202. The names are the china-division
// data set's (data/VERSION says which, and its hash), embedded.
package regions

import (
	_ "embed"
	"encoding/json"
	"sync"
)

//go:embed data/pca-code.json
var pcaJSON []byte

// Division is one administrative division.
type Division struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// Children are the divisions below it (cities of a province, counties
	// of a city).
	Children []Division `json:"children,omitempty"`
}

var (
	loadOnce sync.Once
	names    map[string]string
)

func load() {
	names = make(map[string]string, 4096)
	var tree []Division
	// The embedded file is checked by the tests; were it broken, every
	// code would show as itself.
	if json.Unmarshal(pcaJSON, &tree) != nil {
		return
	}
	var walk func([]Division)
	walk = func(ds []Division) {
		for _, d := range ds {
			names[d.Code] = d.Name
			walk(d.Children)
		}
	}
	walk(tree)
}

// Name returns the name of the division of a 2-, 4- or 6-digit code, and
// whether it is known.
func Name(code string) (string, bool) {
	loadOnce.Do(load)
	n, ok := names[code]
	return n, ok
}

// Path returns the known divisions of a civil code from its province down,
// up to its county (8-digit codes below a county are no division of the
// data set): "34020201" gives 安徽省, 芜湖市, 镜湖区.
func Path(code string) []Division {
	var out []Division
	for _, n := range []int{2, 4, 6} {
		if len(code) < n {
			break
		}
		if name, ok := Name(code[:n]); ok {
			out = append(out, Division{Code: code[:n], Name: name})
		}
	}
	return out
}
