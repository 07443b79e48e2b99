package ids

import "strconv"

// TypeCode is digits 11–13 of an identifier: what kind of device, server or
// user the identifier names.
type TypeCode uint16

// Type codes of GB/T 28181-2016 Annex D, with the 2022 additions.
const (
	// Front-end main devices (111–130).
	TypeDVR                  TypeCode = 111
	TypeVideoServer          TypeCode = 112
	TypeEncoder              TypeCode = 113
	TypeDecoder              TypeCode = 114
	TypeVideoMatrix          TypeCode = 115
	TypeAudioMatrix          TypeCode = 116
	TypeAlarmController      TypeCode = 117
	TypeNVR                  TypeCode = 118
	TypeVideoImageCollection TypeCode = 120 // 2022: online video-image collection system
	TypeVideoCheckpoint      TypeCode = 121 // 2022
	TypeMultiLens            TypeCode = 122 // 2022: multi-lens device
	TypeParkingAccess        TypeCode = 123 // 2022: parking entrance/exit control
	TypePersonnelAccess      TypeCode = 124 // 2022: personnel entrance/exit control
	TypeSecurityInspection   TypeCode = 125 // 2022
	TypeHVR                  TypeCode = 130

	// Front-end peripherals (131–199): the channels of a device.
	TypeCamera          TypeCode = 131
	TypeIPC             TypeCode = 132
	TypeDisplay         TypeCode = 133
	TypeAlarmInput      TypeCode = 134
	TypeAlarmOutput     TypeCode = 135
	TypeVoiceInput      TypeCode = 136
	TypeVoiceOutput     TypeCode = 137
	TypeMobileTransport TypeCode = 138
	TypeOtherPeripheral TypeCode = 139
	TypeRelayOutput     TypeCode = 140 // 2022: alarm output driven by relay/trigger
	TypeBarrierGate     TypeCode = 141 // 2022
	TypeSmartDoor       TypeCode = 142 // 2022
	TypeVoucherReader   TypeCode = 143 // 2022: credential recognition unit

	// Platform devices (200–299).
	TypeCenterServer       TypeCode = 200 // central signalling control server: the platform (SIP server) ID
	TypeWebServer          TypeCode = 201
	TypeMediaServer        TypeCode = 202
	TypeProxyServer        TypeCode = 203
	TypeSecurityServer     TypeCode = 204
	TypeAlarmServer        TypeCode = 205
	TypeDatabaseServer     TypeCode = 206
	TypeGISServer          TypeCode = 207
	TypeManagementServer   TypeCode = 208
	TypeAccessGateway      TypeCode = 209
	TypeMediaStorageServer TypeCode = 210
	TypeSignallingGateway  TypeCode = 211 // signalling security routing gateway
	TypeBusinessGroup      TypeCode = 215
	TypeVirtualOrg         TypeCode = 216

	// Users.
	TypeCenterUser   TypeCode = 300
	TypeTerminalUser TypeCode = 400

	// External platforms (2022, 500–599).
	TypeVideoAppPlatform       TypeCode = 500 // integrated video-image application platform
	TypeVideoOpsPlatform       TypeCode = 501 // operation and maintenance platform
	TypeVideoAnalysisSystem    TypeCode = 502
	TypeVideoDatabase          TypeCode = 503
	TypeVideoAnalysisEquipment TypeCode = 505
)

// typeName returns the name of a known type code.
func typeName(t TypeCode) (string, bool) {
	switch t {
	case TypeDVR:
		return "DVR", true
	case TypeVideoServer:
		return "video server", true
	case TypeEncoder:
		return "encoder", true
	case TypeDecoder:
		return "decoder", true
	case TypeVideoMatrix:
		return "video matrix", true
	case TypeAudioMatrix:
		return "audio matrix", true
	case TypeAlarmController:
		return "alarm controller", true
	case TypeNVR:
		return "NVR", true
	case TypeVideoImageCollection:
		return "video-image collection system", true
	case TypeVideoCheckpoint:
		return "video checkpoint", true
	case TypeMultiLens:
		return "multi-lens device", true
	case TypeParkingAccess:
		return "parking access control", true
	case TypePersonnelAccess:
		return "personnel access control", true
	case TypeSecurityInspection:
		return "security inspection", true
	case TypeHVR:
		return "HVR", true
	case TypeCamera:
		return "camera", true
	case TypeIPC:
		return "IPC", true
	case TypeDisplay:
		return "display", true
	case TypeAlarmInput:
		return "alarm input", true
	case TypeAlarmOutput:
		return "alarm output", true
	case TypeVoiceInput:
		return "voice input", true
	case TypeVoiceOutput:
		return "voice output", true
	case TypeMobileTransport:
		return "mobile transmission device", true
	case TypeOtherPeripheral:
		return "other peripheral", true
	case TypeRelayOutput:
		return "relay alarm output", true
	case TypeBarrierGate:
		return "barrier gate", true
	case TypeSmartDoor:
		return "smart door", true
	case TypeVoucherReader:
		return "credential reader", true
	case TypeCenterServer:
		return "central signalling server", true
	case TypeWebServer:
		return "web application server", true
	case TypeMediaServer:
		return "media distribution server", true
	case TypeProxyServer:
		return "proxy server", true
	case TypeSecurityServer:
		return "security server", true
	case TypeAlarmServer:
		return "alarm server", true
	case TypeDatabaseServer:
		return "database server", true
	case TypeGISServer:
		return "GIS server", true
	case TypeManagementServer:
		return "management server", true
	case TypeAccessGateway:
		return "access gateway", true
	case TypeMediaStorageServer:
		return "media storage server", true
	case TypeSignallingGateway:
		return "signalling security routing gateway", true
	case TypeBusinessGroup:
		return "business group", true
	case TypeVirtualOrg:
		return "virtual organisation", true
	case TypeCenterUser:
		return "center user", true
	case TypeTerminalUser:
		return "terminal user", true
	case TypeVideoAppPlatform:
		return "video application platform", true
	case TypeVideoOpsPlatform:
		return "video operation platform", true
	case TypeVideoAnalysisSystem:
		return "video analysis system", true
	case TypeVideoDatabase:
		return "video database", true
	case TypeVideoAnalysisEquipment:
		return "video analysis equipment", true
	}
	return "", false
}

// String returns a short English name, or "type NNN" for codes without one
// (reserved and vendor extension ranges).
func (t TypeCode) String() string {
	if n, ok := typeName(t); ok {
		return n
	}
	return "type " + pad(uint64(t), 3)
}

// Known reports whether the code is one the standard assigns a meaning to.
func (t TypeCode) Known() bool {
	_, ok := typeName(t)
	return ok
}

// IsDevice reports whether the code names a front-end main device (111–130:
// DVR, NVR, encoder, HVR …), i.e. something that registers and owns channels.
func (t TypeCode) IsDevice() bool { return t >= 111 && t <= 130 }

// IsFrontEnd reports whether the code names a front-end peripheral, the
// channel of a device (camera, IPC, alarm input …). The bounds are exclusive,
// 130 < t < 199, matching what WVP accepts as a playable channel.
func (t TypeCode) IsFrontEnd() bool { return t > 130 && t < 199 }

// IsPlatform reports whether the code names a central signalling control
// server, the type used for platform (SIP server) identifiers.
func (t TypeCode) IsPlatform() bool { return t == TypeCenterServer }

// IsPlatformDevice reports whether the code lies in the platform-device range
// 200–299 (servers, gateways, business groups, virtual organisations).
func (t TypeCode) IsPlatformDevice() bool { return t >= 200 && t <= 299 }

// IsBusinessGroup reports whether the code names a business group (215).
func (t TypeCode) IsBusinessGroup() bool { return t == TypeBusinessGroup }

// IsVirtualOrg reports whether the code names a virtual organisation (216).
func (t TypeCode) IsVirtualOrg() bool { return t == TypeVirtualOrg }

// IsUser reports whether the code names a center user (300–399) or a
// terminal user (400–499).
func (t TypeCode) IsUser() bool { return t >= 300 && t <= 499 }

// IsExternalPlatform reports whether the code names an external platform or
// server attached to the video platform (500–599, 2022).
func (t TypeCode) IsExternalPlatform() bool { return t >= 500 && t <= 599 }

// pad formats v as a decimal number with at least width digits.
func pad(v uint64, width int) string {
	s := strconv.FormatUint(v, 10)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
