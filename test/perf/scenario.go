package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
)

// scenario is one kind of request the harness measures.
type scenario struct {
	id     string // short name, for flags and progress lines
	title  string // as the report names it
	method string
	path   string
	want   int // the status every response must have
	// tokens is the Authorization bearer token of request i (a counter
	// that runs across every request a server gets). distinct tells
	// whether no two requests may share one.
	tokens   []string
	distinct bool
	// wrap lets distinct tokens be used again once all were (warm-up).
	wrap bool
	// body, when set, is the request body; idWidth digits at each of
	// idAt are replaced by a unique message ID per request.
	body []byte
	idAt []int
	hdrs string // extra header lines, each ending in \r\n
}

// Scenario IDs.
const (
	scenarioPush   = "push"
	scenarioClerk  = "clerk"
	scenarioWhoami = "whoami"
)

// idWidth is the width of the message IDs the harness writes: Pub/Sub's are
// decimal strings of about this length.
const idWidth = 17

// dataBytes is the size of a push message's data before base64.
const dataBytes = 1024

// scenarios returns the three scenarios, in report order.
func scenarios(f *fixtures) []*scenario {
	body, idAt := pushEnvelope()
	return []*scenario{
		{
			id: scenarioPush, title: "push, reused Google token",
			method: http.MethodPost, path: "/pubsub/push", want: http.StatusNoContent,
			tokens: []string{f.googleToken}, body: body, idAt: idAt,
			// What Pub/Sub sends besides the token.
			hdrs: "Content-Type: application/json\r\n" +
				"User-Agent: APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)\r\n" +
				"From: noreply@google.com\r\n" +
				"Accept-Encoding: gzip, deflate, br\r\n",
		},
		{
			id: scenarioClerk, title: "/whoami, distinct Clerk tokens",
			method: http.MethodGet, path: "/whoami", want: http.StatusOK,
			tokens: f.clerkTokens, distinct: true,
			hdrs: "Origin: " + clerkParty + "\r\nAccept: application/json\r\n",
		},
		{
			id: scenarioWhoami, title: "/whoami, reused Google token",
			method: http.MethodGet, path: "/whoami", want: http.StatusOK,
			tokens: []string{f.googleToken},
			hdrs:   "Accept: application/json\r\n",
		},
	}
}

// pushEnvelope returns a wrapped push envelope as Pub/Sub writes it (both
// spellings of the message fields) with dataBytes of data, and the offsets
// of its two message ID fields.
func pushEnvelope() ([]byte, []int) {
	data := make([]byte, dataBytes)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(' ' + rng.IntN(95)) // printable text, like most JSON payloads
	}
	placeholder := fmt.Sprintf("%0*d", idWidth, 0)
	body := fmt.Appendf(nil, `{"message":{"attributes":{"eventType":"order.created","source":"checkout"},`+
		`"data":%q,"messageId":"%s","message_id":"%s",`+
		`"publishTime":"2026-01-15T10:00:00.123Z","publish_time":"2026-01-15T10:00:00.123Z"},`+
		`"subscription":"projects/%s/subscriptions/orders-push"}`,
		base64.StdEncoding.EncodeToString(data), placeholder, placeholder, project)
	var idAt []int
	quoted := []byte(`"` + placeholder + `"`)
	for off := 0; ; {
		i := bytes.Index(body[off:], quoted)
		if i < 0 {
			break
		}
		idAt = append(idAt, off+i+1)
		off += i + len(quoted)
	}
	return body, idAt
}

// putID writes id as idWidth decimal digits at each offset of b.
func putID(b []byte, at []int, id uint64) {
	for _, off := range at {
		v := id
		for i := off + idWidth - 1; i >= off; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
}

// requestHead is the request line and headers up to the token.
func (s *scenario) requestHead(host string) []byte {
	return fmt.Appendf(nil, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer ", s.method, s.path, host)
}

// requestTail follows the token: the remaining headers and the blank line.
func (s *scenario) requestTail() []byte {
	tail := "\r\n" + s.hdrs
	if s.body != nil {
		tail += fmt.Sprintf("Content-Length: %d\r\n", len(s.body))
	}
	return []byte(tail + "\r\n")
}
