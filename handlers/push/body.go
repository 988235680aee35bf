package push

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxPrealloc caps how much readBody trusts Content-Length up front, so that
// a request claiming a huge length cannot make it allocate before sending.
const maxPrealloc = 16 << 20

// readBody reads the whole body into a slice sized from Content-Length: a
// body of the announced length costs one allocation of exactly its size. A
// body over an http.MaxBytesReader limit returns the *http.MaxBytesError;
// another read error wraps ErrMalformed.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	size := 512
	if n := r.ContentLength; n > 0 {
		size = int(min(n, maxPrealloc))
	}
	buf := make([]byte, 0, size)
	for {
		var err error
		if len(buf) < cap(buf) {
			var n int
			n, err = r.Body.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
		} else {
			// Full: usually the body is exactly that long, so look for EOF
			// before growing the slice (append grows it).
			var probe [1]byte
			var n int
			n, err = r.Body.Read(probe[:])
			buf = append(buf, probe[:n]...)
		}
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, fmt.Errorf("push: reading body: %w", err)
			}
			return nil, fmt.Errorf("%w: could not read the body", ErrMalformed)
		}
	}
}
