package main

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// refusal is what a connection over the cap gets before it is closed: an
// answer a client can act on (Retry-After) rather than a reset it retries
// at once.
const refusal = "HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Retry-After: 1\r\n" +
	"Connection: close\r\n" +
	"Content-Length: 44\r\n\r\n" +
	"Too many open connections; try again soon.\r\n"

// limitListener caps the connections open at once. Over the cap, a new
// connection is answered 503 and closed at once instead of waiting in the
// accept queue, so a flood (slow clients, or many idle ones) degrades to
// refused connections while the process, its file descriptors and the
// connections already open stay healthy. Timeouts on the server close the
// stalled connections that hold slots.
type limitListener struct {
	net.Listener
	max   int64
	open  atomic.Int64
	plain bool // plain HTTP: the refusal can be written as is

	refused  atomic.Uint64
	refusing atomic.Int64 // refusals in progress
}

// maxRefusing bounds the refusals answered at once; beyond it a connection
// over the cap is closed without an answer.
const maxRefusing = 256

func newLimitListener(ln net.Listener, max int, plain bool) *limitListener {
	return &limitListener{Listener: ln, max: int64(max), plain: plain}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &countedConn{Conn: c, release: func() { l.open.Add(-1) }}, nil
		}
		l.open.Add(-1)
		l.refused.Add(1)
		if !l.plain || l.refusing.Add(1) > maxRefusing {
			if l.plain {
				l.refusing.Add(-1)
			}
			_ = c.Close()
			continue
		}
		go l.refuse(c)
	}
}

// refuse answers a connection over the cap with 503. It reads the request
// first (briefly): a client that has not sent it yet would take an answer
// before its request for a stray one, and closing with the request unread
// resets the connection, losing the answer.
func (l *limitListener) refuse(c net.Conn) {
	defer l.refusing.Add(-1)
	_ = c.SetDeadline(time.Now().Add(time.Second))
	var head [4096]byte
	_, _ = c.Read(head[:])
	_, _ = c.Write([]byte(refusal))
	_ = c.Close()
}

// Open is the number of connections open now.
func (l *limitListener) Open() int64 { return l.open.Load() }

// Refused is the number of connections refused over the cap so far.
func (l *limitListener) Refused() uint64 { return l.refused.Load() }

// countedConn gives its slot back exactly once, however often it is closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
