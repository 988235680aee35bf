package dispatch

import "testing"

func TestAttributeHeaderAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		k, v string
		want bool
	}{
		{"color", "blue", true},
		{"Content-Type", "application/json", true},
		{"x-custom_1.2~", "tab\tok", true},
		{"authorization", "Bearer forged", false},
		{"Proxy-Authorization", "x", false},
		{"cookie", "__session=x", false},
		{"HOST", "evil.example", false},
		{"user-agent", "x", false},
		{"Content-Length", "1", false},
		{"transfer-encoding", "chunked", false},
		{"x-goog-pubsub-message-id", "1", false},
		{"X-Goog-Pubsub-Anything", "1", false},
		{"bad name", "x", false},
		{"", "x", false},
		{"naïve", "x", false},
		{"k", "line\r\nInjected: 1", false},
		{"k", "nul\x00", false},
		{"k", "del\x7f", false},
	}
	for _, tt := range tests {
		t.Run(tt.k+"="+tt.v, func(t *testing.T) {
			if got := attributeHeaderAllowed(tt.k, tt.v); got != tt.want {
				t.Errorf("attributeHeaderAllowed(%q, %q) = %v, want %v", tt.k, tt.v, got, tt.want)
			}
		})
	}
}
