package manscdp

// Paginate splits items into packets of at most perPacket items (Annex N).
// perPacket <= 0 puts everything in one packet. No items gives one empty
// packet, because an empty answer (SumNum 0) must still be sent.
// The packets share items' backing array.
func Paginate[T any](items []T, perPacket int) [][]T {
	if perPacket <= 0 || len(items) <= perPacket {
		return [][]T{items[:len(items):len(items)]}
	}
	out := make([][]T, 0, (len(items)+perPacket-1)/perPacket)
	for len(items) > 0 {
		n := min(perPacket, len(items))
		out = append(out, items[:n:n])
		items = items[n:]
	}
	return out
}
