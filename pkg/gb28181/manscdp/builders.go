package manscdp

import "fmt"

// NewResult returns the Result-only Response for cmdType (DeviceControl,
// DeviceConfig, Alarm, Broadcast, or Catalog for a SUBSCRIBE answer) with
// Result OK or ERROR.
func NewResult(cmdType, deviceID string, sn int, ok bool) (Message, error) {
	result := ResultOK
	if !ok {
		result = ResultError
	}
	h := Header{SN: sn, DeviceID: deviceID}
	m, _ := newMessage(RootResponse, cmdType)
	switch t := m.(type) {
	case *DeviceControlResponse:
		t.Header, t.Result = h, result
	case *DeviceConfigResponse:
		t.Header, t.Result = h, result
	case *AlarmResponse:
		t.Header, t.Result = h, result
	case *BroadcastResponse:
		t.Header, t.Result = h, result
	case *CatalogResponse:
		t.Header, t.Result = h, result
	case *DeviceInfoResponse:
		t.Header, t.Result = h, result
	case *DeviceStatusResponse:
		t.Header, t.Result = h, result
	case *ConfigDownloadResponse:
		t.Header, t.Result = h, result
	default:
		return nil, fmt.Errorf("%w: no Result response for %q", ErrUnknownCmdType, cmdType)
	}
	m.Head().CmdType = m.cmdType()
	return m, nil
}

// ReplyHeader returns the header of an answer to req: same DeviceID and SN,
// CmdType filled in by Encode.
func ReplyHeader(req Message) Header {
	h := req.Head()
	return Header{SN: h.SN, DeviceID: h.DeviceID}
}
