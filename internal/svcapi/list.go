package svcapi

import "net/http"

// List is the shape of every list answer of the services' APIs: one page
// of items and the total of every match.
type List[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// WriteList answers items, each as view shows it, and total, the count of
// every match (not just this page).
func WriteList[S, T any](w http.ResponseWriter, items []S, total int, view func(S) T) {
	out := List[T]{Items: make([]T, 0, len(items)), Total: total}
	for _, it := range items {
		out.Items = append(out.Items, view(it))
	}
	WriteJSON(w, http.StatusOK, out)
}
