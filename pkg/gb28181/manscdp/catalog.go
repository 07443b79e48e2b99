package manscdp

import "strings"

// Catalog item status values.
const (
	StatusOn  = "ON"
	StatusOff = "OFF"
)

// Catalog NOTIFY item events (9.11). ADD and UPDATE carry the full item; the
// others carry only DeviceID and Event.
const (
	EventAdd    = "ADD"
	EventDel    = "DEL"
	EventUpdate = "UPDATE"
	EventOn     = "ON"
	EventOff    = "OFF"
	EventVLost  = "VLOST"
	EventDefect = "DEFECT"
)

// CatalogQuery asks for a device's channel catalog (A.2.4.3). It is also
// the body of a catalog SUBSCRIBE.
type CatalogQuery struct {
	queryRoot
	Header
}

func (*CatalogQuery) cmdType() string { return CmdCatalog }

// CatalogResponse is one packet of a catalog answer (A.2.6.4); long
// catalogs span several packets (see Aggregator). A catalog SUBSCRIBE is
// answered with Result only.
type CatalogResponse struct {
	responseRoot
	Header
	// SumNum is the number of items across all packets.
	SumNum     int                `xml:"SumNum"`
	DeviceList *List[CatalogItem] `xml:"DeviceList,omitempty"`
	Result     string             `xml:"Result,omitempty"`
}

func (*CatalogResponse) cmdType() string { return CmdCatalog }

// CatalogNotify reports catalog changes to a subscriber (9.11); each item carries an Event.
type CatalogNotify struct {
	notifyRoot
	Header
	SumNum     int                `xml:"SumNum"`
	DeviceList *List[CatalogItem] `xml:"DeviceList,omitempty"`
}

func (*CatalogNotify) cmdType() string { return CmdCatalog }

// CatalogItem is one catalog entry: a channel, a civil-code node, a
// platform (type 200), a business group (215) or a virtual organisation
// (216). It holds the union of the 2016 and 2022 fields; Encode picks the
// ones of the requested edition. The gb tag says which edition carries the
// field and whether it is always written ("!").
type CatalogItem struct {
	DeviceID     string `xml:"DeviceID" gb:"16!,22!"`
	Name         string `xml:"Name,omitempty" gb:"16!,22!"`
	Manufacturer string `xml:"Manufacturer,omitempty" gb:"16!,22!"`
	Model        string `xml:"Model,omitempty" gb:"16!,22!"`
	Owner        string `xml:"Owner,omitempty" gb:"16!"`
	CivilCode    string `xml:"CivilCode,omitempty" gb:"16!,22!"`
	Block        string `xml:"Block,omitempty" gb:"16,22"`
	Address      string `xml:"Address,omitempty" gb:"16!,22!"`
	// Parental is 1 when the item has children.
	Parental int `xml:"Parental,omitempty" gb:"16!,22!"`
	// ParentID may list several parents joined by '/' (2022); see ParentIDs.
	ParentID string `xml:"ParentID,omitempty" gb:"16,22"`
	// BusinessGroupID is top-level in 2022; 2016 puts it in Info.
	BusinessGroupID string `xml:"BusinessGroupID,omitempty" gb:"22"`
	SafetyWay       int    `xml:"SafetyWay,omitempty" gb:"16!"`
	// RegisterWay is 1 (RFC 3261), 2 (password) or 3 (certificate).
	RegisterWay       int    `xml:"RegisterWay,omitempty" gb:"16!,22!"`
	SecurityLevelCode string `xml:"SecurityLevelCode,omitempty" gb:"22"`
	CertNum           string `xml:"CertNum,omitempty" gb:"16"`
	Certifiable       int    `xml:"Certifiable,omitempty" gb:"16"`
	ErrCode           int    `xml:"ErrCode,omitempty" gb:"16"`
	EndTime           Time   `xml:"EndTime" gb:"16"`
	Secrecy           int    `xml:"Secrecy,omitempty" gb:"16!,22!"`
	IPAddress         string `xml:"IPAddress,omitempty" gb:"16,22"`
	Port              int    `xml:"Port,omitempty" gb:"16,22"`
	Password          string `xml:"Password,omitempty" gb:"16,22"`
	// Status is ON or OFF; devices also send OK, ONLINE, OFFLINE (see NormalizeStatus).
	Status    string       `xml:"Status,omitempty" gb:"16!,22!"`
	Longitude float64      `xml:"Longitude,omitempty" gb:"16,22"`
	Latitude  float64      `xml:"Latitude,omitempty" gb:"16,22"`
	Info      *CatalogInfo `xml:"Info,omitempty" gb:"16,22"`
	// Event is set in catalog NOTIFY items.
	Event string `xml:"Event,omitempty" gb:"16,22"`
}

// CatalogInfo is the optional Info extension of a catalog item: the 2016
// members and the 2022 additions.
type CatalogInfo struct {
	// PTZType is 1 dome, 2 half-dome, 3 fixed, 4 remote-controlled bullet;
	// 2022 allows a '/'-joined list.
	PTZType                  string `xml:"PTZType,omitempty" gb:"16,22"`
	PhotoelectricImagingType string `xml:"PhotoelectricImagingType,omitempty" gb:"22"`
	CapturePositionType      string `xml:"CapturePositionType,omitempty" gb:"22"`
	PositionType             int    `xml:"PositionType,omitempty" gb:"16"`
	RoomType                 int    `xml:"RoomType,omitempty" gb:"16,22"`
	UseType                  int    `xml:"UseType,omitempty" gb:"16"`
	SupplyLightType          int    `xml:"SupplyLightType,omitempty" gb:"16,22"`
	DirectionType            int    `xml:"DirectionType,omitempty" gb:"16,22"`
	// Resolution lists resolution codes joined by '/'.
	Resolution string `xml:"Resolution,omitempty" gb:"16,22"`
	// StreamNumberList lists stream numbers joined by '/', e.g. "0/1/2".
	StreamNumberList string `xml:"StreamNumberList,omitempty" gb:"22"`
	// BusinessGroupID is the 2016 location; 2022 moves it to the item.
	BusinessGroupID string `xml:"BusinessGroupID,omitempty" gb:"16"`
	// DownloadSpeed lists speed factors joined by '/', e.g. "1/2/4".
	DownloadSpeed        string  `xml:"DownloadSpeed,omitempty" gb:"16,22"`
	SVCSpaceSupportMode  int     `xml:"SVCSpaceSupportMode,omitempty" gb:"16,22"`
	SVCTimeSupportMode   int     `xml:"SVCTimeSupportMode,omitempty" gb:"16,22"`
	SSVCRatioSupportList string  `xml:"SSVCRatioSupportList,omitempty" gb:"22"`
	MobileDeviceType     string  `xml:"MobileDeviceType,omitempty" gb:"22"`
	HorizontalFieldAngle float64 `xml:"HorizontalFieldAngle,omitempty" gb:"22"`
	VerticalFieldAngle   float64 `xml:"VerticalFieldAngle,omitempty" gb:"22"`
	MaxViewDistance      float64 `xml:"MaxViewDistance,omitempty" gb:"22"`
	GrassrootsCode       string  `xml:"GrassrootsCode,omitempty" gb:"22"`
	PointType            string  `xml:"PointType,omitempty" gb:"22"`
	InstallTime          string  `xml:"InstallTime,omitempty" gb:"22"`
	ManagementUnit       string  `xml:"ManagementUnit,omitempty" gb:"22"`
	ContactInfo          string  `xml:"ContactInfo,omitempty" gb:"22"`
	RecordSaveDays       int     `xml:"RecordSaveDays,omitempty" gb:"22"`
	FunctionType         string  `xml:"FunctionType,omitempty" gb:"22"`
	EncodeType           string  `xml:"EncodeType,omitempty" gb:"22"`
	MAC                  string  `xml:"MAC,omitempty" gb:"22"`
}

// ParentIDs returns the parents named by ParentID, which 2022 allows to
// join with '/'. Blank parts are dropped; no parent gives nil.
func (it *CatalogItem) ParentIDs() []string {
	var out []string
	for _, p := range strings.Split(it.ParentID, "/") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// EffectiveBusinessGroupID returns the business group, wherever the edition put it.
func (it *CatalogItem) EffectiveBusinessGroupID() string {
	if it.BusinessGroupID != "" {
		return it.BusinessGroupID
	}
	if it.Info != nil {
		return it.Info.BusinessGroupID
	}
	return ""
}

// Online reports whether Status means the item is online.
func (it *CatalogItem) Online() bool { return NormalizeStatus(it.Status) == StatusOn }

// NormalizeStatus maps the status spellings seen in the wild to StatusOn
// (ON, OK, ONLINE) or StatusOff (OFF, OFFLINE), in any case and with
// surrounding blanks; anything else gives "".
func NormalizeStatus(s string) string {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "ON", "OK", "ONLINE":
		return StatusOn
	case "OFF", "OFFLINE":
		return StatusOff
	}
	return ""
}

// NewCatalogPages splits items into Catalog answers of at most perPacket
// items each, all with SumNum = len(items). No items gives one empty answer.
func NewCatalogPages(deviceID string, sn int, items []CatalogItem, perPacket int) []*CatalogResponse {
	pages := Paginate(items, perPacket)
	out := make([]*CatalogResponse, len(pages))
	for i, p := range pages {
		out[i] = &CatalogResponse{
			Header:     Header{SN: sn, DeviceID: deviceID},
			SumNum:     len(items),
			DeviceList: &List[CatalogItem]{Items: p},
		}
	}
	return out
}

// NewCatalogNotifyPages is NewCatalogPages for subscription NOTIFYs.
func NewCatalogNotifyPages(deviceID string, sn int, items []CatalogItem, perPacket int) []*CatalogNotify {
	pages := Paginate(items, perPacket)
	out := make([]*CatalogNotify, len(pages))
	for i, p := range pages {
		out[i] = &CatalogNotify{
			Header:     Header{SN: sn, DeviceID: deviceID},
			SumNum:     len(items),
			DeviceList: &List[CatalogItem]{Items: p},
		}
	}
	return out
}
