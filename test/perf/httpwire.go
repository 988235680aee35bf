package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The load generator speaks HTTP/1.1 itself: a request is written from
// pre-built pieces and a response is parsed in place from a bufio.Reader,
// so that a request costs the generator no allocation and far less CPU
// than net/http's client, which would otherwise cap what it can measure.

// response is what the generator needs from a response.
type response struct {
	status    int
	close     bool   // the server will close the connection
	bodyStart []byte // the first bytes of the body, for error reports (reused buffer)
}

var errMalformedResponse = errors.New("perf: malformed HTTP response")

// readResponse reads one response from br, discarding its body except for
// up to len(snip) bytes copied into snip (kept for error reports).
func readResponse(br *bufio.Reader, snip []byte) (response, error) {
	var res response
	line, err := br.ReadSlice('\n')
	if err != nil {
		return res, err
	}
	// "HTTP/1.1 204 No Content\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return res, errMalformedResponse
	}
	res.status, err = atoi3(line[9:12])
	if err != nil {
		return res, err
	}
	http10 := line[7] == '0'
	res.close = http10
	contentLength := int64(-1)
	chunked := false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return res, err
		}
		line = trimCRLF(line)
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return res, errMalformedResponse
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return res, errMalformedResponse
			}
			contentLength = n
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = asciiEqualFold(value, "chunked")
		case asciiEqualFold(name, "Connection"):
			switch {
			case asciiEqualFold(value, "close"):
				res.close = true
			case asciiEqualFold(value, "keep-alive"):
				res.close = false
			}
		}
	}
	switch {
	case res.status == 204 || res.status == 304 || res.status < 200:
		return res, nil
	case chunked:
		return res, readChunked(br, &res, snip)
	case contentLength >= 0:
		return res, readBody(br, &res, snip, contentLength)
	}
	// No length: the body runs to the end of the connection.
	res.close = true
	n, _ := io.ReadFull(br, snip)
	res.bodyStart = snip[:n]
	_, err = io.Copy(io.Discard, br)
	return res, err
}

func readBody(br *bufio.Reader, res *response, snip []byte, n int64) error {
	k := int(min(n, int64(len(snip))))
	if _, err := io.ReadFull(br, snip[:k]); err != nil {
		return err
	}
	res.bodyStart = snip[:k]
	_, err := br.Discard(int(n) - k)
	return err
}

func readChunked(br *bufio.Reader, res *response, snip []byte) error {
	res.bodyStart = snip[:0]
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(trimCRLF(line), []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 {
			return errMalformedResponse
		}
		if n == 0 {
			// Trailers, then an empty line.
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(trimCRLF(line)) == 0 {
					return nil
				}
			}
		}
		room := cap(snip) - len(res.bodyStart)
		k := int(min(n, int64(room)))
		if k > 0 {
			buf := res.bodyStart[len(res.bodyStart) : len(res.bodyStart)+k]
			if _, err := io.ReadFull(br, buf); err != nil {
				return err
			}
			res.bodyStart = res.bodyStart[:len(res.bodyStart)+k]
		}
		if _, err := br.Discard(int(n) - k); err != nil {
			return err
		}
		if line, err := br.ReadSlice('\n'); err != nil || len(trimCRLF(line)) != 0 {
			return errMalformedResponse
		}
	}
}

func atoi3(b []byte) (int, error) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: status %q", errMalformedResponse, b)
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

func trimCRLF(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// asciiEqualFold compares b with s ignoring ASCII case, without allocating.
func asciiEqualFold[T []byte | string](b []byte, s T) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
