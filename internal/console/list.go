package console

import (
	"net/http"

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
