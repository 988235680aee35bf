package service

import (
	"net/http/httptest"
	"testing"
)

// TestClientIP: the access line's client address is the entry Google's
// front end appended to X-Forwarded-For (the rightmost), never one the
// client wrote; without a usable one, the peer address.
func TestClientIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		remoteAddr string
		xff        []string // X-Forwarded-For lines, in order
		want       string
	}{
		{"no header: the peer", "192.0.2.10:51234", nil, "192.0.2.10"},
		{"no header, IPv6 peer", "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"one entry, as Cloud Run sends it", "169.254.1.1:8080", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a client-written first entry is not the client", "169.254.1.1:8080", []string{"10.0.0.1, 203.0.113.9"}, "203.0.113.9"},
		{"several written entries", "169.254.1.1:8080", []string{"1.1.1.1,2.2.2.2 ,  203.0.113.9"}, "203.0.113.9"},
		{"a written non-address first entry", "169.254.1.1:8080", []string{"<script>, 203.0.113.9"}, "203.0.113.9"},
		{"IPv6 entry", "169.254.1.1:8080", []string{"198.51.100.7, 2001:db8:85a3::8a2e:370:7334"}, "2001:db8:85a3::8a2e:370:7334"},
		{"header sent twice: the last line's last entry", "169.254.1.1:8080", []string{"198.51.100.7", "10.0.0.1, 203.0.113.9"}, "203.0.113.9"},
		{"last entry not an address: the peer", "192.0.2.10:51234", []string{"203.0.113.9, unknown"}, "192.0.2.10"},
		{"last entry with a port: the peer", "192.0.2.10:51234", []string{"203.0.113.9:4711"}, "192.0.2.10"},
		{"empty last entry: the peer", "192.0.2.10:51234", []string{"203.0.113.9,"}, "192.0.2.10"},
		{"empty header: the peer", "192.0.2.10:51234", []string{""}, "192.0.2.10"},
		{"peer without a port", "192.0.2.10", nil, "192.0.2.10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remoteAddr
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r); got != tt.want {
				t.Errorf("clientIP(RemoteAddr %q, X-Forwarded-For %q) = %q, want %q", tt.remoteAddr, tt.xff, got, tt.want)
			}
		})
	}
}
