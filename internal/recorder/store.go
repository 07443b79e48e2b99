package recorder

import "github.com/sharpeyes/sharpeyes/internal/objstore"

// nodeStore is a directory store under the name it has in the index:
// "dir://<node>". Each node's directory is on its own disk, so its sweeper
// and capacity guard take only the rows of its own store, and playback
// knows which node holds a file. A shared S3 bucket keeps its name: any
// node may delete there.
type nodeStore struct {
	objstore.Store
	name string
}

// Name implements objstore.Store.
func (s nodeStore) Name() string { return s.name }

// nodeNamed returns st renamed for node when it is a directory store, else
// st.
func nodeNamed(st objstore.Store, node string) objstore.Store {
	if st.Name() != objstore.KindDir {
		return st
	}
	return nodeStore{Store: st, name: objstore.KindDir + "://" + node}
}
