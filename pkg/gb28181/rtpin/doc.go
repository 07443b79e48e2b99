// Package rtpin holds helpers for receiving RTP from GB/T 28181 devices: a
// reorder buffer that reports losses, an SSRC filter and an RTP timestamp
// unwrapper.
package rtpin
