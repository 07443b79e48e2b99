package ids_test

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
)

func TestTypeCodePredicates(t *testing.T) {
	tests := []struct {
		code                                   ids.TypeCode
		name                                   string
		device, frontEnd, platform, platDevice bool
		group, vorg, user, external, known     bool
	}{
		{code: 111, name: "DVR", device: true, known: true},
		{code: 118, name: "NVR", device: true, known: true},
		{code: 119, name: "type 119", device: true},
		{code: 130, name: "HVR", device: true, known: true},
		{code: 131, name: "camera", frontEnd: true, known: true},
		{code: 132, name: "IPC", frontEnd: true, known: true},
		{code: 139, name: "other peripheral", frontEnd: true, known: true},
		{code: 143, name: "credential reader", frontEnd: true, known: true},
		{code: 198, name: "type 198", frontEnd: true},
		{code: 199, name: "type 199"}, // WVP's upper bound is exclusive
		{code: 200, name: "central signalling server", platform: true, platDevice: true, known: true},
		{code: 202, name: "media distribution server", platDevice: true, known: true},
		{code: 211, name: "signalling security routing gateway", platDevice: true, known: true},
		{code: 215, name: "business group", platDevice: true, group: true, known: true},
		{code: 216, name: "virtual organisation", platDevice: true, vorg: true, known: true},
		{code: 299, name: "type 299", platDevice: true},
		{code: 300, name: "center user", user: true, known: true},
		{code: 400, name: "terminal user", user: true, known: true},
		{code: 500, name: "video application platform", external: true, known: true},
		{code: 504, name: "type 504", external: true},
		{code: 505, name: "video analysis equipment", external: true, known: true},
		{code: 0, name: "type 000"},
		{code: 110, name: "type 110"},
		{code: 999, name: "type 999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.code
			if got := c.String(); got != tt.name {
				t.Errorf("String = %q, want %q", got, tt.name)
			}
			check := func(what string, got, want bool) {
				if got != want {
					t.Errorf("%d.%s = %v, want %v", c, what, got, want)
				}
			}
			check("IsDevice", c.IsDevice(), tt.device)
			check("IsFrontEnd", c.IsFrontEnd(), tt.frontEnd)
			check("IsPlatform", c.IsPlatform(), tt.platform)
			check("IsPlatformDevice", c.IsPlatformDevice(), tt.platDevice)
			check("IsBusinessGroup", c.IsBusinessGroup(), tt.group)
			check("IsVirtualOrg", c.IsVirtualOrg(), tt.vorg)
			check("IsUser", c.IsUser(), tt.user)
			check("IsExternalPlatform", c.IsExternalPlatform(), tt.external)
			check("Known", c.Known(), tt.known)
		})
	}
}

// Every code the package names must have a proper description.
func TestTypeCodeNamesComplete(t *testing.T) {
	codes := []ids.TypeCode{
		ids.TypeDVR, ids.TypeVideoServer, ids.TypeEncoder, ids.TypeDecoder, ids.TypeVideoMatrix,
		ids.TypeAudioMatrix, ids.TypeAlarmController, ids.TypeNVR, ids.TypeVideoImageCollection,
		ids.TypeVideoCheckpoint, ids.TypeMultiLens, ids.TypeParkingAccess, ids.TypePersonnelAccess,
		ids.TypeSecurityInspection, ids.TypeHVR, ids.TypeCamera, ids.TypeIPC, ids.TypeDisplay,
		ids.TypeAlarmInput, ids.TypeAlarmOutput, ids.TypeVoiceInput, ids.TypeVoiceOutput,
		ids.TypeMobileTransport, ids.TypeOtherPeripheral, ids.TypeRelayOutput, ids.TypeBarrierGate,
		ids.TypeSmartDoor, ids.TypeVoucherReader, ids.TypeCenterServer, ids.TypeWebServer,
		ids.TypeMediaServer, ids.TypeProxyServer, ids.TypeSecurityServer, ids.TypeAlarmServer,
		ids.TypeDatabaseServer, ids.TypeGISServer, ids.TypeManagementServer, ids.TypeAccessGateway,
		ids.TypeMediaStorageServer, ids.TypeSignallingGateway, ids.TypeBusinessGroup, ids.TypeVirtualOrg,
		ids.TypeCenterUser, ids.TypeTerminalUser, ids.TypeVideoAppPlatform, ids.TypeVideoOpsPlatform,
		ids.TypeVideoAnalysisSystem, ids.TypeVideoDatabase, ids.TypeVideoAnalysisEquipment,
	}
	seen := map[string]ids.TypeCode{}
	for _, c := range codes {
		if !c.Known() {
			t.Errorf("%d not Known", c)
		}
		n := c.String()
		if prev, dup := seen[n]; dup {
			t.Errorf("%d and %d share the name %q", prev, c, n)
		}
		seen[n] = c
	}
}

func TestIndustryAndNetworkNames(t *testing.T) {
	industries := map[ids.IndustryCode]string{
		0: "public security road", 1: "public security community", 2: "public security internal",
		3: "public security other", 4: "traffic road", 5: "traffic checkpoint", 6: "traffic internal",
		7: "traffic other", 8: "city management", 9: "health and environment", 10: "customs",
		11: "education", 12: "civil aviation", 13: "railway", 14: "shipping", 40: "agriculture",
		41: "mining", 42: "manufacturing", 43: "utilities", 44: "construction",
		45: "wholesale and retail", 15: "industry 15", 99: "industry 99",
	}
	for c, want := range industries {
		if got := c.String(); got != want {
			t.Errorf("IndustryCode(%d) = %q, want %q", c, got, want)
		}
	}
	networks := map[ids.NetworkCode]string{
		0: "video network", 1: "video network", 2: "industry network", 3: "political-legal network",
		4: "mobile information network", 5: "information network", 6: "e-government extranet",
		7: "internet", 8: "dedicated line", 9: "reserved", 10: "network 10",
	}
	for c, want := range networks {
		if got := c.String(); got != want {
			t.Errorf("NetworkCode(%d) = %q, want %q", c, got, want)
		}
	}
}
