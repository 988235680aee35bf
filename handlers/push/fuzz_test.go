package push

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"testing"

	fastbase64 "github.com/segmentio/asm/base64"
	"github.com/segmentio/asm/cpu"
	"github.com/segmentio/asm/cpu/x86"
)

// FuzzDecode feeds Decode arbitrary deliveries. form picks the shape
// (form%3: 0 wrapped, 1 unwrapped, 2 Eventarc); id and meta fill the headers
// that shape reads (unwrapped: message ID and publish time; Eventarc: ce-id
// and ce-type); body is the request body. Decode must never panic, must
// refuse with ErrMalformed or return a message with an ID, and must never
// take credentials for attributes.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, form uint8, id, meta string, body []byte) {
		r := &http.Request{
			Method:        http.MethodPost,
			Header:        http.Header{"Authorization": {"Bearer token"}},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
		}
		want := FormWrapped
		switch form % 3 {
		case 1:
			want = FormUnwrapped
			r.Header.Set(headerMessageID, id)
			if meta != "" {
				r.Header.Set(headerPublishTime, meta)
			}
		case 2:
			want = FormEventarc
			r.Header.Set(headerCEType, meta)
			r.Header.Set(headerCEID, id)
			r.Header.Set(headerCESource, "//pubsub.googleapis.com/projects/p/topics/t")
			r.Header.Set(headerCESpecVersion, "1.0")
		}

		m, err := Decode(r)
		if want == FormWrapped {
			sameAsJSON(t, body, m, err)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode() error = %v, want one wrapping ErrMalformed", err)
			}
			if m != nil {
				t.Fatalf("Decode() = %+v with error %v, want nil", m, err)
			}
			return
		}
		if m.ID == "" || len(m.ID) > maxIDLength {
			t.Fatalf("Decode() ID = %q, want 1 to %d bytes", m.ID, maxIDLength)
		}
		if m.Form != want {
			t.Fatalf("Decode() Form = %q, want %q", m.Form, want)
		}
		if m.DeliveryAttempt < 0 {
			t.Fatalf("Decode() DeliveryAttempt = %d, want >= 0", m.DeliveryAttempt)
		}
		if _, ok := m.Attributes["authorization"]; ok && want == FormUnwrapped {
			t.Fatal("Decode() took the Authorization header for an attribute")
		}
		if want == FormUnwrapped && (m.ID != id || !bytes.Equal(m.Data, body)) {
			t.Fatalf("Decode() = ID %q, data %q; want %q, %q", m.ID, m.Data, id, body)
		}
	})
}

// sameAsJSON fails the test unless Decode's result for a wrapped body is
// the one encoding/json alone gives.
func sameAsJSON(t *testing.T, body []byte, got *Message, gotErr error) {
	t.Helper()
	want, wantErr := parseEnvelopeJSON(bytes.Clone(body), FormWrapped, nil, nil)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("Decode() error = %v; encoding/json alone: %v", gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode() = %+v; encoding/json alone: %+v", got, want)
	}
}

// FuzzDecodeData: decodeData accepts and refuses exactly what
// encoding/base64's StdEncoding does, with the same bytes and the same
// error. Inputs of 45 characters or more reach the vector loop; the seeds
// put the bytes it must stop at inside and at the edges of its
// 32-character steps.
func FuzzDecodeData(f *testing.F) {
	for _, s := range base64Seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		sameAsBase64(t, s)
	})
}

// TestDecodeDataSameAsBase64 runs every seed of FuzzDecodeData and, for
// valid text of every length that is a multiple of 4 from 40 to 148
// characters (each of different random bytes, so that the vector loop
// decodes every character of the alphabet), every one of the 256 byte
// values put in place of each character and inserted before it.
func TestDecodeDataSameAsBase64(t *testing.T) {
	t.Parallel()
	if runtime.GOARCH == "amd64" && !cpu.X86.Has(x86.AVX2) {
		t.Log("no AVX2 here: decodeData is encoding/base64 throughout, so this compares it with itself")
	}
	for _, s := range base64Seeds() {
		sameAsBase64(t, s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[byte]bool{} // characters of the first 32 of a text the loop takes
	for n := 30; n <= 111; n += 3 {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		valid := []byte(base64.StdEncoding.EncodeToString(data))
		for _, c := range valid[:32] {
			seen[c] = true
		}
		sameAsBase64(t, valid)
		for i := range valid {
			for c := range 256 {
				s := bytes.Clone(valid)
				s[i] = byte(c)
				sameAsBase64(t, s)
				sameAsBase64(t, slices.Insert(bytes.Clone(valid), i, byte(c)))
			}
		}
	}
	if len(seen) != 64 {
		t.Fatalf("the valid texts start with %d of the 64 characters; choose other random bytes", len(seen))
	}
}

// TestDecodeDataStaysInItsBuffer: the vector loop writes nothing past
// DecodedLen(len(s)) bytes of its destination, for every length up to 600
// characters of valid text, of text ending in padding and of text ending
// in a byte outside the alphabet. decodeData relies on it: its loop has no
// bound check of its own.
func TestDecodeDataStaysInItsBuffer(t *testing.T) {
	t.Parallel()
	const guard = 64
	for n := range 600 {
		text := []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("pushgate\xff\x00"), n/10+1)[:n]))
		for _, s := range [][]byte{text, append(bytes.Clone(text), '='), append(bytes.Clone(text), '!')} {
			size := fastbase64.StdEncoding.DecodedLen(len(s))
			buf := bytes.Repeat([]byte{0xa5}, size+guard)
			_, _ = fastbase64.StdEncoding.Decode(buf[:size], s)
			for i, b := range buf[size:] {
				if b != 0xa5 {
					t.Fatalf("decoding %d characters wrote at byte %d of a %d-byte destination", len(s), size+i, size)
				}
			}
		}
	}
}

func sameAsBase64(t *testing.T, s []byte) {
	t.Helper()
	want := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, wantErr := base64.StdEncoding.Decode(want, s)
	got, err := decodeData(s)
	if err != wantErr {
		t.Fatalf("decodeData(%q) error = %v; encoding/base64: %v", s, err, wantErr)
	}
	if err == nil && !bytes.Equal(got, want[:n]) {
		t.Fatalf("decodeData(%q) = %x; encoding/base64: %x", s, got, want[:n])
	}
}

// base64Seeds are inputs around the vector loop's edges: empty, short, 44
// and 48 characters (it takes 45 or more), whole steps of 32 and one
// character more or less, padding, CR/LF (encoding/base64 skips them), the
// URL alphabet, non-zero trailing bits, and bytes outside ASCII.
func base64Seeds() [][]byte {
	enc := func(n int) string {
		return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("pushgate\xff\x00"), n/10+1)[:n])
	}
	seeds := []string{
		"", "QQ==", "QR==", "QQ", "QQ=", "Q", "====", "QUJD", "QUJDRA==",
		enc(33), enc(34), enc(48), enc(96), enc(1024),
		enc(48) + "Q", enc(48)[:63], enc(33) + "Q", enc(33) + "QQ",
		enc(48) + "\r\n" + enc(48),
		enc(24) + "\n" + enc(24) + "\n" + enc(24),
		enc(96)[:64] + "=" + enc(96)[65:],
		enc(96)[:40] + "-_" + enc(96)[42:],
		enc(96)[:70] + "\xe2\x82\xac" + enc(96)[73:],
		enc(96)[:31] + "@" + enc(96)[32:],
		enc(96)[:32] + "`" + enc(96)[33:],
		enc(96) + "=",
		enc(96) + "QQ",
		enc(96)[:len(enc(96))-1],
		enc(96) + "\r\n",
		"\r\n" + enc(96),
	}
	out := make([][]byte, len(seeds))
	for i, s := range seeds {
		out[i] = []byte(s)
	}
	return out
}
