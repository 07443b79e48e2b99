package manscdp

// BroadcastNotify starts a voice broadcast to a device (9.12, A.2.5.5).
type BroadcastNotify struct {
	notifyRoot
	Header
	// SourceID is the platform or audio source.
	SourceID string `xml:"SourceID"`
	// TargetID is the device or channel that will play the audio.
	TargetID string `xml:"TargetID"`
}

func (*BroadcastNotify) cmdType() string { return CmdBroadcast }

// BroadcastResponse answers a BroadcastNotify (A.2.6.11).
type BroadcastResponse struct {
	responseRoot
	Header
	Result string `xml:"Result"`
}

func (*BroadcastResponse) cmdType() string { return CmdBroadcast }
