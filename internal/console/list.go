package console

import (
	"net/http"
	"strconv"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// listResponse is the shape of every list.
type listResponse[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// writeList answers items, each as toJSON shows it, and the total.
func writeList[S, T any](w http.ResponseWriter, items []S, total int, toJSON func(S) T) {
	out := listResponse[T]{Items: make([]T, 0, len(items)), Total: total}
	for _, it := range items {
		out.Items = append(out.Items, toJSON(it))
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
}

// page reads limit, offset, online and q.
func page(r *http.Request) (limit, offset int, online *bool, q string, err error) {
	query := r.URL.Query()
	if v := query.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			return 0, 0, nil, "", badRequest("limit must be 1–1000, got %q", v)
		}
	}
	if v := query.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, nil, "", badRequest("offset must be ≥ 0, got %q", v)
		}
	}
	if v := query.Get("online"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return 0, 0, nil, "", badRequest("online must be true or false, got %q", v)
		}
		online = &b
	}
	q = query.Get("q")
	if len(q) > 200 {
		return 0, 0, nil, "", badRequest("q is too long")
	}
	return limit, offset, online, q, nil
}
