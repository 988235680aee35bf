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

// readBody reads the whole body into a slice sized from Content-Length (one
// byte more, to meet EOF without growing): a body of the announced length
// costs one allocation. A body over an http.MaxBytesReader limit returns the
// *http.MaxBytesError; another read error wraps ErrMalformed.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	size := 512
	if n := r.ContentLength; n > 0 {
		size = int(min(n, maxPrealloc)) + 1
	}
	buf := make([]byte, 0, size)
	for {
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, fmt.Errorf("push: reading body: %w", err)
			}
			return nil, fmt.Errorf("%w: could not read the body", ErrMalformed)
		case len(buf) == cap(buf):
			buf = append(buf, 0)[:len(buf)] // append picks the new capacity
		}
	}
}
