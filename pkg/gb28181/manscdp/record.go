package manscdp

import "strings"

// Values of the record Type element.
const (
	RecordTypeAll    = "all"
	RecordTypeTime   = "time"
	RecordTypeAlarm  = "alarm"
	RecordTypeManual = "manual"
)

// RecordInfoQuery searches a channel's recordings (A.2.4.5). DeviceID is the channel.
type RecordInfoQuery struct {
	queryRoot
	Header
	StartTime Time   `xml:"StartTime"`
	EndTime   Time   `xml:"EndTime"`
	FilePath  string `xml:"FilePath,omitempty"`
	Address   string `xml:"Address,omitempty"`
	Secrecy   int    `xml:"Secrecy"`
	// Type is all, time, alarm or manual.
	Type            string `xml:"Type,omitempty"`
	RecorderID      string `xml:"RecorderID,omitempty"`
	IndistinctQuery int    `xml:"IndistinctQuery,omitempty"`
	// StreamNumber (2022) picks the stream; nil leaves it to the device.
	StreamNumber *int `xml:"StreamNumber,omitempty"`
}

func (*RecordInfoQuery) cmdType() string { return CmdRecordInfo }

// RecordInfoResponse is one packet of the answer to RecordInfoQuery
// (A.2.6.7); long answers span several packets (see Aggregator).
type RecordInfoResponse struct {
	responseRoot
	Header
	// Name is the channel name.
	Name string `xml:"Name,omitempty"`
	// SumNum is the number of records across all packets.
	SumNum     int               `xml:"SumNum"`
	RecordList *List[RecordItem] `xml:"RecordList,omitempty"`
}

func (*RecordInfoResponse) cmdType() string { return CmdRecordInfo }

// RecordItem is one recording in a RecordInfoResponse.
type RecordItem struct {
	DeviceID   string `xml:"DeviceID"`
	Name       string `xml:"Name,omitempty"`
	FilePath   string `xml:"FilePath,omitempty"`
	Address    string `xml:"Address,omitempty"`
	StartTime  Time   `xml:"StartTime"`
	EndTime    Time   `xml:"EndTime"`
	Secrecy    int    `xml:"Secrecy"`
	Type       string `xml:"Type,omitempty"`
	RecorderID string `xml:"RecorderID,omitempty"`
	// FileSize is in bytes.
	FileSize int64 `xml:"FileSize,omitempty"`
}

// Key identifies a record for de-duplication: DeviceID, StartTime, EndTime and FilePath.
func (r *RecordItem) Key() string {
	return strings.Join([]string{r.DeviceID, r.StartTime.String(), r.EndTime.String(), r.FilePath}, "|")
}

// NewRecordInfoPages splits items into RecordInfo answers of at most
// perPacket records each, all with SumNum = len(items). No items gives one
// empty answer.
func NewRecordInfoPages(deviceID, name string, sn int, items []RecordItem, perPacket int) []*RecordInfoResponse {
	pages := Paginate(items, perPacket)
	out := make([]*RecordInfoResponse, len(pages))
	for i, p := range pages {
		out[i] = &RecordInfoResponse{
			Header:     Header{SN: sn, DeviceID: deviceID},
			Name:       name,
			SumNum:     len(items),
			RecordList: &List[RecordItem]{Items: p},
		}
	}
	return out
}
