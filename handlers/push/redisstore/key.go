package redisstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// DefaultKeyPrefix is prepended to every message ID when Options.KeyPrefix is
// empty.
const DefaultKeyPrefix = "pushgate:dedup:"

// maxRawID is the longest message ID used in a key as it is. Pub/Sub message
// IDs are numeric strings of about 17 digits; Eventarc event IDs are short
// too. A longer ID is replaced by its SHA-256, so keys stay bounded.
const maxRawID = 128

// hashedMark starts the ID part of a key made from a hash. An ID that itself
// starts with it is hashed too, so a raw ID can never equal a hashed one.
const hashedMark = "#sha256:"

var errEmptyID = errors.New("redisstore: empty message ID")

// keyFor returns the Redis key of a message ID: the prefix and the ID as it
// is when it is short and printable ASCII, else the prefix and the ID's
// SHA-256.
func keyFor(prefix, id string) (string, error) {
	if id == "" {
		return "", errEmptyID
	}
	if len(id) <= maxRawID && printable(id) && !strings.HasPrefix(id, "#") {
		return prefix + id, nil
	}
	sum := sha256.Sum256([]byte(id))
	return prefix + hashedMark + hex.EncodeToString(sum[:]), nil
}

// printable reports whether s is all visible ASCII (no spaces or control
// bytes), which keeps keys readable in redis-cli and in logs.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
