package devmode

import (
	"strings"
	"testing"
)

func TestHowTo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		port      string
		want      []string
		forbidden []string
	}{
		{
			port: "8080",
			want: []string{
				"http://127.0.0.1:8080/",
				"TOKEN=$(go run . token user)",
				"curl -sS --oauth2-bearer $TOKEN -H 'Content-Type: text/plain' -d hello http://127.0.0.1:8080/api/events",
				"curl -sS --oauth2-bearer $TOKEN http://127.0.0.1:8080/api/events",
				"curl -sS --oauth2-bearer $(go run . token service) http://127.0.0.1:8080/whoami",
			},
			forbidden: []string{"PORT="},
		},
		{
			port: "9090",
			want: []string{
				"TOKEN=$(PORT=9090 go run . token user)",
				"http://127.0.0.1:9090/api/events",
				"$(PORT=9090 go run . token service) http://127.0.0.1:9090/whoami",
			},
			forbidden: []string{"8080"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.port, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			for _, s := range HowTo(tt.port) {
				if s.Step == "" || s.Command == "" {
					t.Errorf("empty step %+v", s)
				}
				// Each command must survive a JSON log line unescaped.
				if strings.ContainsAny(s.Command, "\"\\<>&") {
					t.Errorf("command %q holds a character JSON would escape", s.Command)
				}
				b.WriteString(s.Command + "\n")
			}
			got := b.String()
			for _, want := range tt.want {
				if !strings.Contains(got, want+"\n") {
					t.Errorf("HowTo(%q) lacks %q:\n%s", tt.port, want, got)
				}
			}
			for _, bad := range append(tt.forbidden, "eyJ") {
				if strings.Contains(got, bad) {
					t.Errorf("HowTo(%q) contains %q:\n%s", tt.port, bad, got)
				}
			}
		})
	}
}
