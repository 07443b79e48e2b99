package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies decides what to believe of a request's forwarding headers: only a
// request whose TCP peer is a trusted reverse proxy has its
// X-Forwarded-For (the client address) and X-Forwarded-Proto (whether the
// browser used HTTPS) taken into account. Anyone else could write them.
type Proxies struct {
	// Trusted are the proxies' address prefixes; empty trusts no header.
	Trusted []netip.Prefix
}

func (p Proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, pr := range p.Trusted {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr reads "ip", "ip:port" or "[ipv6]:port".
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// peer is the TCP peer's address.
func peer(r *http.Request) (netip.Addr, string) {
	if a, ok := parseAddr(r.RemoteAddr); ok {
		return a, a.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, r.RemoteAddr
	}
	return netip.Addr{}, host
}

// ClientAddr is the client's IP: the TCP peer, or, when the peer is a
// trusted proxy, the nearest address of X-Forwarded-For that is not one.
// The headers are read from the right (the entry our own proxy added) and
// the reading stops at an entry that is not an address: nothing left of it
// can be believed.
func (p Proxies) ClientAddr(r *http.Request) string {
	a, s := peer(r)
	if !a.IsValid() || !p.trusts(a) {
		return s
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := a
	for i := len(hops) - 1; i >= 0; i-- {
		h, ok := parseAddr(hops[i])
		if !ok {
			break
		}
		client = h
		if !p.trusts(h) {
			break
		}
	}
	return client.String()
}

// Secure reports whether the browser reached the console over HTTPS: the
// console's own TLS, or X-Forwarded-Proto: https from a trusted proxy.
func (p Proxies) Secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	a, _ := peer(r)
	if !a.IsValid() || !p.trusts(a) {
		return false
	}
	// The first value is what the proxy nearest the browser saw.
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}
