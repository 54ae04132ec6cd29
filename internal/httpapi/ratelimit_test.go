package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestClientAddress: X-Forwarded-For counts only from a trusted proxy, and
// then only its right-most entry that is not itself a trusted proxy; what a
// client writes into the header is never believed.
func TestClientAddress(t *testing.T) {
	t.Parallel()
	l := &Limits{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}
	tests := []struct {
		name, peer string
		forwarded  []string
		want       string
	}{
		{"no proxy", "192.0.2.1:5000", nil, "192.0.2.1"},
		{"a spoofed header from an untrusted peer", "192.0.2.1:5000", []string{"198.51.100.7"}, "192.0.2.1"},
		{"behind one proxy", "10.0.0.2:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"behind one proxy, the client's own claim to its left", "10.0.0.2:5000", []string{"203.0.113.9, 198.51.100.7"}, "198.51.100.7"},
		{"behind two proxies", "10.0.0.2:5000", []string{"198.51.100.7, 10.0.0.3"}, "198.51.100.7"},
		{"headers split over lines", "10.0.0.2:5000", []string{"203.0.113.9", "198.51.100.7, 10.0.0.3"}, "198.51.100.7"},
		{"an entry with a port", "10.0.0.2:5000", []string{"198.51.100.7:4711"}, "198.51.100.7"},
		{"IPv6", "[fd00::2]:5000", []string{"2001:db8::1"}, "2001:db8::1"},
		{"a trusted proxy without the header", "10.0.0.2:5000", nil, "10.0.0.2"},
		{"only proxies", "10.0.0.2:5000", []string{"10.0.0.4, 10.0.0.3"}, "10.0.0.4"},
		{"junk from a proxy", "10.0.0.2:5000", []string{"198.51.100.7, unknown"}, "10.0.0.2"},
		{"an IPv4-mapped peer", "[::ffff:10.0.0.2]:5000", []string{"198.51.100.7"}, "198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/query", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.forwarded {
				r.Header.Add("X-Forwarded-For", v)
			}
			require.Equal(t, tt.want, l.clientAddress(r))
		})
	}
	r := httptest.NewRequest("GET", "/query", nil)
	r.RemoteAddr = "10.0.0.2:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	require.Equal(t, "10.0.0.2", (&Limits{}).clientAddress(r), "no proxy is trusted unless configured")
}
