// Package digestauth is SIP digest authentication: the server side
// (RFC 2617 / RFC 3261 §22) as GB28181 devices use it on REGISTER: nonces
// issued and signed by the server that expire, a replay guard on (nonce, nc),
// and verification with the uri and nc exactly as the client sent them —
// devices disagree about which URI they hash, and the standard's digest says
// to trust the header — and the client side (Answer), with which gbsim
// registers to us and we register to superior platforms.
package digestauth
