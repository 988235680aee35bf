package push

import "strings"

// attributeName returns the attribute that a header of an unwrapped
// delivery stands for: its canonical name lower-cased, since HTTP does not
// keep the case of names. ok is false for a header of the transport
// (isTransportHeader) and for one that may carry a credential
// (isCredentialName), which never become attributes.
func attributeName(header string) (name string, ok bool) {
	if isTransportHeader(header) {
		return "", false
	}
	name = strings.ToLower(header)
	if isCredentialName(name) {
		return "", false
	}
	return name, true
}

// isTransportHeader reports whether the canonical header name belongs to
// HTTP, the Google front end or Pub/Sub's own metadata rather than to the
// message's attributes in an unwrapped delivery.
func isTransportHeader(name string) bool {
	switch name {
	case "Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language",
		"Cache-Control", "Connection", "Content-Encoding",
		"Content-Length", "Content-Type", "Expect", "Forwarded",
		"From", "Host", "Keep-Alive", "Origin", "Pragma",
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

// isCredentialName reports whether a header name, lower-cased, may carry a
// credential, or an identity that a proxy or gateway vouches for: it holds
// one of the words below (Authorization, Proxy-Authorization,
// X-Forwarded-Authorization, X-Serverless-Authorization; Cookie;
// X-Endpoint-Api-Userinfo and X-Apigateway-Api-Userinfo; X-Api-Key,
// X-Auth-Token, X-Csrf-Token, X-Amz-Security-Token,
// X-Goog-Iap-Jwt-Assertion, Cf-Access-Client-Secret, X-Ms-Client-Principal,
// X-Authenticated-User and the like), or it is an authenticating proxy's
// identity header (X-Remote-User, X-Remote-Group, Remote-User,
// oauth2-proxy's X-Auth-Request-*). Such a header never becomes an
// attribute of an unwrapped delivery, so that no handler keeps or shows a
// credential as message data. It fails closed: an attribute whose name
// holds one of the words is dropped with them (the wrapped form keeps
// every attribute).
func isCredentialName(lower string) bool {
	for _, word := range [...]string{
		"authorization", "authenticat", "cookie", "token", "api-key", "apikey",
		"userinfo", "secret", "password", "passwd", "credential", "assertion",
		"principal", "session",
	} {
		if strings.Contains(lower, word) {
			return true
		}
	}
	return strings.HasPrefix(lower, "x-remote-") || lower == "remote-user" || strings.HasPrefix(lower, "x-auth-request-")
}
