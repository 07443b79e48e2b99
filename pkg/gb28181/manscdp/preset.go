package manscdp

// PresetQuery asks a channel for its PTZ presets (A.2.4.8).
type PresetQuery struct {
	queryRoot
	Header
}

func (*PresetQuery) cmdType() string { return CmdPresetQuery }

// PresetQueryResponse answers PresetQuery (A.2.6.10).
type PresetQueryResponse struct {
	responseRoot
	Header
	PresetList *List[PresetItem] `xml:"PresetList,omitempty"`
}

func (*PresetQueryResponse) cmdType() string { return CmdPresetQuery }

// PresetItem is one preset.
type PresetItem struct {
	PresetID   string `xml:"PresetID"`
	PresetName string `xml:"PresetName,omitempty"`
}
