package main

import (
	"bufio"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// target is one server process under load: its keep-alive connections and
// the counters that make message IDs and token choices unique across
// every request it gets (warm-up included).
type target struct {
	addr     string
	verifies bool // false: the server checks no token (the ceiling), so distinct tokens may repeat
	clients  []*client
	ids      atomic.Uint64
	tokens   atomic.Int64
	sent     atomic.Int64 // requests begun in the current drive, against its quota
}

func newTarget(addr string, verifies bool, conns int, idBase uint64) *target {
	t := &target{addr: addr, verifies: verifies}
	t.ids.Store(idBase)
	for range conns {
		t.clients = append(t.clients, &client{addr: addr})
	}
	return t
}

func (t *target) close() {
	for _, c := range t.clients {
		c.close()
	}
}

// client is one keep-alive connection and its worker's buffers.
type client struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	body []byte // this worker's copy of the scenario body, IDs patched in place
	lat  []time.Duration
	snip [200]byte

	lastBody []byte // the start of the last response's body (in snip)
	errs     int
	firstErr string
}

func (c *client) fail(reason string) {
	if c.errs == 0 {
		c.firstErr = reason
	}
	c.errs++
}

func (c *client) dial() error {
	conn, err := net.Dial("tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn = conn
	if c.br == nil {
		c.br = bufio.NewReaderSize(conn, 16<<10)
		c.bw = bufio.NewWriterSize(conn, 16<<10)
	} else {
		c.br.Reset(conn)
		c.bw.Reset(conn)
	}
	return nil
}

func (c *client) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
}

// loadResult is what one timed run of a scenario against a target gave.
type loadResult struct {
	requests   int // answered with the wanted status
	errors     int // anything else: another status, a transport error
	firstError string
	elapsed    time.Duration
	latencies  []time.Duration // of the answered requests, unsorted
	exhausted  bool            // the distinct tokens ran out before the deadline
}

// drive sends sc's requests to t on every connection at once, each worker
// sending its next request as soon as the last is answered, until d has
// passed (or the distinct tokens run out), or, with a quota above 0, until
// quota requests were sent, whichever comes first.
func drive(t *target, sc *scenario, d time.Duration, quota int64) loadResult {
	head := sc.requestHead(t.addr)
	tail := sc.requestTail()
	start := time.Now()
	deadline := start.Add(d)
	t.sent.Store(0)
	var (
		wg        sync.WaitGroup
		exhausted atomic.Bool
	)
	for _, c := range t.clients {
		c.body = append(c.body[:0], sc.body...)
		c.lat = c.lat[:0]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !c.work(t, sc, head, tail, deadline, quota) {
				exhausted.Store(true)
			}
		}()
	}
	wg.Wait()
	res := loadResult{elapsed: time.Since(start), exhausted: exhausted.Load()}
	for _, c := range t.clients {
		res.latencies = append(res.latencies, c.lat...)
	}
	res.requests = len(res.latencies)
	for _, c := range t.clients {
		res.errors += c.errs
		if res.firstError == "" {
			res.firstError = c.firstErr
		}
		c.errs, c.firstErr = 0, ""
	}
	return res
}

// work runs one worker until the deadline or the quota (when above 0);
// false if it stopped because the distinct tokens ran out.
func (c *client) work(t *target, sc *scenario, head, tail []byte, deadline time.Time, quota int64) bool {
	for {
		start := time.Now()
		if !start.Before(deadline) || quota > 0 && t.sent.Add(1) > quota {
			return true
		}
		token := sc.tokens[0]
		if sc.distinct {
			i := t.tokens.Add(1) - 1
			if i >= int64(len(sc.tokens)) {
				if t.verifies && !sc.wrap {
					return false
				}
				i %= int64(len(sc.tokens))
			}
			token = sc.tokens[i]
		}
		if sc.body != nil {
			putID(c.body, sc.idAt, t.ids.Add(1))
		}
		status, err := c.roundTrip(head, token, tail)
		switch {
		case err != nil:
			c.fail(fmt.Sprintf("transport: %v", err))
			c.close()
		case status != sc.want:
			c.fail(fmt.Sprintf("status %d, body %q", status, c.lastBody))
		default:
			c.lat = append(c.lat, time.Since(start))
		}
	}
}

// roundTrip writes one request and reads its response, dialling first if
// the connection is closed.
func (c *client) roundTrip(head []byte, token string, tail []byte) (int, error) {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			time.Sleep(10 * time.Millisecond) // do not spin on a server that is gone
			return 0, err
		}
	}
	c.bw.Write(head)
	c.bw.WriteString(token)
	c.bw.Write(tail)
	c.bw.Write(c.body)
	if err := c.bw.Flush(); err != nil {
		return 0, err
	}
	res, err := readResponse(c.br, c.snip[:])
	if err != nil {
		return 0, err
	}
	c.lastBody = res.bodyStart
	if res.close {
		c.close()
	}
	return res.status, nil
}
