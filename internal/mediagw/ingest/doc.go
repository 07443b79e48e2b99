// Package ingest receives the MPEG-PS over RTP streams that GB/T 28181
// devices send after an INVITE and hands the demuxed access units to a Sink.
//
// A Receiver is one stream's pipeline: SSRC filter, reorder buffer with loss
// and duplicate accounting, PS demuxer, statistics and an inactivity timeout.
// Transports feed it raw RTP packets: UDPMux (one shared UDP port, streams
// told apart by SSRC), UDPPort (one UDP port per stream), TCPPassive (the
// device connects to us) and TCPActive (we connect to the device); both TCP
// transports read RFC 4571 framing. A transport that ends ends its Receiver
// with an error saying why; other receivers are not affected.
package ingest
