package push

import (
	"strings"
	"sync"
)

// MaxSubscriptionLabels bounds the distinct values of the subscription
// attribute of the handler's metrics and spans: the first this many
// subscription names seen keep their own value; later ones share
// SubscriptionOther. A push endpoint serves a handful of subscriptions, so
// the bound is reached only by a misconfigured or misbehaving caller.
const MaxSubscriptionLabels = 32

// Subscription attribute values that are no subscription's name. Both are
// distinct from every name, which starts with "projects/".
const (
	// SubscriptionUnknown: the delivery names no subscription (an
	// unwrapped delivery without metadata, or one that is not a delivery).
	SubscriptionUnknown = "unknown"
	// SubscriptionOther: a name past MaxSubscriptionLabels, or a value
	// that is not of the form projects/<project>/subscriptions/<id>.
	SubscriptionOther = "other"
)

// subscriptionLabels turns the subscription a delivery names into a value
// of a bounded set.
type subscriptionLabels struct {
	mu    sync.RWMutex
	known map[string]struct{}
	max   int
}

func newSubscriptionLabels(max int) *subscriptionLabels {
	return &subscriptionLabels{known: make(map[string]struct{}), max: max}
}

// label returns name itself while the set holds it or has room and name is
// a subscription's full name, else SubscriptionUnknown or SubscriptionOther.
func (s *subscriptionLabels) label(name string) string {
	if name == "" {
		return SubscriptionUnknown
	}
	s.mu.RLock()
	_, ok := s.known[name]
	s.mu.RUnlock()
	if ok {
		return name
	}
	if !validSubscriptionName(name) {
		return SubscriptionOther
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.known[name]; ok {
		return name
	}
	if len(s.known) >= s.max {
		return SubscriptionOther
	}
	// Keep a copy of name that shares no memory with the request.
	s.known[strings.Clone(name)] = struct{}{}
	return name
}

// validSubscriptionName reports whether name is
// projects/<project>/subscriptions/<id> by Pub/Sub's rules: a project ID
// (lower-case letters, digits, '-', and '.' or ':' of a domain-scoped one,
// at most 63 characters) and a subscription ID (at most 255 characters of
// letters, digits and "-_.~+%", starting with a letter). Pub/Sub itself
// wants IDs of 3 characters or more; emulators and tests use shorter ones.
func validSubscriptionName(name string) bool {
	rest, ok := strings.CutPrefix(name, "projects/")
	if !ok {
		return false
	}
	project, id, ok := strings.Cut(rest, "/subscriptions/")
	if !ok || project == "" || len(project) > 63 || id == "" || len(id) > 255 {
		return false
	}
	for i := 0; i < len(project); i++ {
		c := project[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':') {
			return false
		}
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || strings.IndexByte("-_.~+%", c) >= 0)) {
			return false
		}
	}
	return true
}

// subscriptionID is the last part of a subscription label: the ID of a
// full name, the label itself otherwise.
func subscriptionID(label string) string {
	return label[strings.LastIndexByte(label, '/')+1:]
}
