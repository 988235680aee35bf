package httperror

import (
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reason string
		want   string
	}{
		{"body too large", `{"error":"body too large"}` + "\n"},
		{`quote " and <tag>`, `{"error":"quote \" and \u003ctag\u003e"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Write(rec, 418, tt.reason)
			if rec.Code != 418 || rec.Body.String() != tt.want || rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("got %d %q %q, want 418 %q application/json", rec.Code, rec.Body, rec.Header().Get("Content-Type"), tt.want)
			}
		})
	}
}
