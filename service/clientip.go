package service

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address an access line names as the client's: the
// rightmost X-Forwarded-For entry when it is an IP address, else the peer
// address of the connection.
//
// Cloud Run's front end appends the address of the client it saw to
// whatever X-Forwarded-For the client sent, so only the last entry is
// Google's word; every entry before it was written by the client (or by
// proxies of the client's) and must never become the logged address.
// Behind an external Application Load Balancer the load balancer appends
// the client's address and then its own (the forwarding rule's), so there
// the last entry is the load balancer's and the client's is the one before.
func clientIP(r *http.Request) string {
	if values := r.Header.Values("X-Forwarded-For"); len(values) > 0 {
		last := values[len(values)-1] // a header sent twice: its last line
		last = last[strings.LastIndexByte(last, ',')+1:]
		if addr, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
			return addr.String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
