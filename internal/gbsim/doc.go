// Package gbsim simulates GB/T 28181 devices: N devices with M camera channels
// each, every one a real SIP client of a GB28181 platform.
//
// A device registers with digest authentication, refreshes its registration
// before it expires, sends keepalives, answers the platform's MANSCDP queries
// and controls (Catalog, DeviceInfo, DeviceStatus, RecordInfo, PresetQuery,
// DeviceControl, DeviceConfig), accepts subscriptions with NOTIFYs, and
// streams MPEG-PS over RTP (UDP, TCP active or TCP passive) when invited,
// live or from a synthetic recording. Faults can be injected for tests.
//
// Each device owns one UDP socket or one TCP connection, as real devices do,
// and runs on a small SIP endpoint of its own: sipgo's message parser and
// transaction state machines without a full sipgo user agent, so that 10,000
// devices fit in one process.
package gbsim
