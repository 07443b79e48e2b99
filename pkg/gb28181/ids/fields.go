package ids

// IndustryCode is digits 9–10 of an identifier: the industry or access
// category the device belongs to.
type IndustryCode uint8

// Industry codes of GB/T 28181 Annex D.
const (
	IndustryPublicSecurityRoad      IndustryCode = 0  // social security, road surface
	IndustryPublicSecurityCommunity IndustryCode = 1  // social security, community and buildings
	IndustryPublicSecurityInternal  IndustryCode = 2  // social security, internal premises
	IndustryPublicSecurityOther     IndustryCode = 3  // social security, other
	IndustryTrafficRoad             IndustryCode = 4  // traffic, road surface
	IndustryTrafficCheckpoint       IndustryCode = 5  // traffic, checkpoints
	IndustryTrafficInternal         IndustryCode = 6  // traffic, internal premises
	IndustryTrafficOther            IndustryCode = 7  // traffic, other
	IndustryCityManagement          IndustryCode = 8  // city management
	IndustryHealthEnvironment       IndustryCode = 9  // health and environmental protection
	IndustryCustoms                 IndustryCode = 10 // commodity inspection and customs
	IndustryEducation               IndustryCode = 11 // education
	IndustryCivilAviation           IndustryCode = 12 // civil aviation
	IndustryRailway                 IndustryCode = 13 // railway
	IndustryShipping                IndustryCode = 14 // shipping
	IndustryAgriculture             IndustryCode = 40 // agriculture, forestry, husbandry, fishery
	IndustryMining                  IndustryCode = 41 // mining
	IndustryManufacturing           IndustryCode = 42 // manufacturing
	IndustryUtilities               IndustryCode = 43 // power, heat, gas and water supply
	IndustryConstruction            IndustryCode = 44 // construction
	IndustryWholesaleRetail         IndustryCode = 45 // wholesale and retail
)

// String returns a short English name, or "industry NN" for codes without one.
func (c IndustryCode) String() string {
	switch c {
	case IndustryPublicSecurityRoad:
		return "public security road"
	case IndustryPublicSecurityCommunity:
		return "public security community"
	case IndustryPublicSecurityInternal:
		return "public security internal"
	case IndustryPublicSecurityOther:
		return "public security other"
	case IndustryTrafficRoad:
		return "traffic road"
	case IndustryTrafficCheckpoint:
		return "traffic checkpoint"
	case IndustryTrafficInternal:
		return "traffic internal"
	case IndustryTrafficOther:
		return "traffic other"
	case IndustryCityManagement:
		return "city management"
	case IndustryHealthEnvironment:
		return "health and environment"
	case IndustryCustoms:
		return "customs"
	case IndustryEducation:
		return "education"
	case IndustryCivilAviation:
		return "civil aviation"
	case IndustryRailway:
		return "railway"
	case IndustryShipping:
		return "shipping"
	case IndustryAgriculture:
		return "agriculture"
	case IndustryMining:
		return "mining"
	case IndustryManufacturing:
		return "manufacturing"
	case IndustryUtilities:
		return "utilities"
	case IndustryConstruction:
		return "construction"
	case IndustryWholesaleRetail:
		return "wholesale and retail"
	}
	return "industry " + pad(uint64(c), 2)
}

// NetworkCode is digit 14 of an identifier: the network the device is
// attached to (2022 list).
type NetworkCode uint8

// Network identifiers.
const (
	NetworkVideo0         NetworkCode = 0 // public security video transmission network
	NetworkVideo1         NetworkCode = 1 // public security video transmission network
	NetworkIndustry       NetworkCode = 2 // industry private network
	NetworkPoliticalLegal NetworkCode = 3 // political and legal information network
	NetworkMobile         NetworkCode = 4 // public security mobile information network
	NetworkInformation    NetworkCode = 5 // public security information network
	NetworkEGovExtranet   NetworkCode = 6 // e-government extranet
	NetworkInternet       NetworkCode = 7 // internet and other public networks
	NetworkDedicatedLine  NetworkCode = 8 // dedicated line
	NetworkReserved       NetworkCode = 9 // reserved
)

// String returns a short English name, or "network N" for values above 9.
func (n NetworkCode) String() string {
	switch n {
	case NetworkVideo0, NetworkVideo1:
		return "video network"
	case NetworkIndustry:
		return "industry network"
	case NetworkPoliticalLegal:
		return "political-legal network"
	case NetworkMobile:
		return "mobile information network"
	case NetworkInformation:
		return "information network"
	case NetworkEGovExtranet:
		return "e-government extranet"
	case NetworkInternet:
		return "internet"
	case NetworkDedicatedLine:
		return "dedicated line"
	case NetworkReserved:
		return "reserved"
	}
	return "network " + pad(uint64(n), 1)
}
