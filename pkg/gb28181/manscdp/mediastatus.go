package manscdp

// NotifyTypeEndOfFile is the MediaStatus NotifyType sent when a playback or
// download stream reaches its end.
const NotifyTypeEndOfFile = "121"

// MediaStatusNotify reports a media session event (A.2.5.4).
type MediaStatusNotify struct {
	notifyRoot
	Header
	// NotifyType is "121" at end of file.
	NotifyType string `xml:"NotifyType"`
}

func (*MediaStatusNotify) cmdType() string { return CmdMediaStatus }
