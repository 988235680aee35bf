package main

import (
	"bufio"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		wire      string
		status    int
		close     bool
		body      string
		remaining string // what the reader must still hold: the next response
	}{
		{"no content", "HTTP/1.1 204 No Content\r\nX-Request-Id: a-1\r\n\r\nNEXT", 204, false, "", "NEXT"},
		{"content length", "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloNEXT", 200, false, "hello", "NEXT"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\nTrailer: v\r\n\r\nNEXT",
			200, false, "hello", "NEXT"},
		{"connection close", "HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", 401, true, "{}", ""},
		{"http/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 200, true, "", ""},
		{"no length reads to the end", "HTTP/1.1 200 OK\r\n\r\nall of it", 200, true, "all of it", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			br := bufio.NewReader(strings.NewReader(tt.wire))
			snip := make([]byte, 64)
			res, err := readResponse(br, snip)
			if err != nil {
				t.Fatalf("readResponse: %v", err)
			}
			if res.status != tt.status || res.close != tt.close || string(res.bodyStart) != tt.body {
				t.Errorf("got status %d close %v body %q, want %d %v %q", res.status, res.close, res.bodyStart,
					tt.status, tt.close, tt.body)
			}
			rest, _ := br.Peek(br.Buffered())
			if string(rest) != tt.remaining {
				t.Errorf("left %q unread, want %q", rest, tt.remaining)
			}
		})
	}
}

func TestReadResponseMalformed(t *testing.T) {
	t.Parallel()
	for _, wire := range []string{
		"HTTP/1.1 2x4 No\r\n\r\n",
		"SMTP 220 hello\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
	} {
		br := bufio.NewReader(strings.NewReader(wire))
		if _, err := readResponse(br, make([]byte, 8)); err == nil {
			t.Errorf("readResponse(%q): no error", wire)
		}
	}
}

func TestPushEnvelopeIDs(t *testing.T) {
	t.Parallel()
	body, at := pushEnvelope()
	if len(at) != 2 {
		t.Fatalf("found %d message ID fields, want 2 (messageId and message_id)", len(at))
	}
	putID(body, at, 42)
	want := `"messageId":"00000000000000042","message_id":"00000000000000042"`
	if !strings.Contains(string(body), want) {
		t.Errorf("envelope does not contain %s:\n%s", want, body)
	}
}
