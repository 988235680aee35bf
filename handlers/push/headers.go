package push

import "strings"

// isTransportHeader reports whether the canonical header name belongs to
// HTTP, the Google front end or Pub/Sub's own metadata rather than to the
// message's attributes in an unwrapped delivery. Credentials (Authorization,
// Cookie and the like) are among them, so they never reach a handler as
// attributes.
func isTransportHeader(name string) bool {
	switch name {
	case "Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language",
		"Authorization", "Cache-Control", "Connection", "Content-Encoding",
		"Content-Length", "Content-Type", "Cookie", "Expect", "Forwarded",
		"From", "Host", "Keep-Alive", "Origin", "Pragma", "Proxy-Authorization",
		"Proxy-Connection", "Referer", "Te", "Traceparent", "Tracestate",
		"Trailer", "Transfer-Encoding", "Upgrade", "User-Agent", "Via",
		"X-Request-Id", "X-Real-Ip":
		return true
	}
	for _, prefix := range [...]string{"X-Goog-", "X-Google-", "X-Cloud-", "X-Forwarded-", "X-Serverless-", "X-Appengine-", "Ce-", "Sec-"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}
