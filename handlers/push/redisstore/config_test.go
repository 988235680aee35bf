package redisstore

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		url          string
		wantAddr     string
		wantTLS      bool
		wantDB       int
		wantPassword string
		wantPool     int
		wantDial     time.Duration
		wantRead     time.Duration
		wantRedacted string
	}{
		{
			name: "plain", url: "redis://10.0.0.3:6379",
			wantAddr: "10.0.0.3:6379", wantPool: poolSize(), wantDial: dialTimeout, wantRead: ioTimeout,
			wantRedacted: "redis://10.0.0.3:6379",
		},
		{
			name: "default port, password, db", url: "redis://:pa55@redis.internal/2",
			wantAddr: "redis.internal:6379", wantDB: 2, wantPassword: "pa55",
			wantPool: poolSize(), wantDial: dialTimeout, wantRead: ioTimeout,
			wantRedacted: "redis://:xxxxx@redis.internal/2",
		},
		{
			name: "tls", url: "rediss://:pa55@10.0.0.4:6378",
			wantAddr: "10.0.0.4:6378", wantTLS: true, wantPassword: "pa55",
			wantPool: poolSize(), wantDial: dialTimeout, wantRead: ioTimeout,
			wantRedacted: "rediss://:xxxxx@10.0.0.4:6378",
		},
		{
			name: "url options win", url: "redis://10.0.0.3?pool_size=50&dial_timeout=5s&read_timeout=250ms",
			wantAddr: "10.0.0.3:6379", wantPool: 50, wantDial: 5 * time.Second, wantRead: 250 * time.Millisecond,
			wantRedacted: "redis://10.0.0.3?pool_size=50&dial_timeout=5s&read_timeout=250ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opt, redacted, err := parseURL(tt.url)
			if err != nil {
				t.Fatalf("parseURL: %v", err)
			}
			if opt.Addr != tt.wantAddr {
				t.Errorf("Addr: got %q, want %q", opt.Addr, tt.wantAddr)
			}
			if got := opt.TLSConfig != nil; got != tt.wantTLS {
				t.Errorf("TLS: got %v, want %v", got, tt.wantTLS)
			}
			if opt.DB != tt.wantDB {
				t.Errorf("DB: got %d, want %d", opt.DB, tt.wantDB)
			}
			if opt.Password != tt.wantPassword {
				t.Errorf("Password: got %q, want %q", opt.Password, tt.wantPassword)
			}
			if opt.PoolSize != tt.wantPool {
				t.Errorf("PoolSize: got %d, want %d", opt.PoolSize, tt.wantPool)
			}
			if opt.DialTimeout != tt.wantDial {
				t.Errorf("DialTimeout: got %v, want %v", opt.DialTimeout, tt.wantDial)
			}
			if opt.ReadTimeout != tt.wantRead {
				t.Errorf("ReadTimeout: got %v, want %v", opt.ReadTimeout, tt.wantRead)
			}
			if !opt.ContextTimeoutEnabled {
				t.Error("ContextTimeoutEnabled: got false, want true")
			}
			if opt.PoolTimeout != poolTimeout || opt.MaxRetries != maxRetries || opt.DialerRetries != dialRetries {
				t.Errorf("PoolTimeout, MaxRetries, DialerRetries: got %v, %d, %d; want %v, %d, %d",
					opt.PoolTimeout, opt.MaxRetries, opt.DialerRetries, poolTimeout, maxRetries, dialRetries)
			}
			if redacted != tt.wantRedacted {
				t.Errorf("redacted: got %q, want %q", redacted, tt.wantRedacted)
			}
		})
	}
}

func TestParseURLErrorsHidePassword(t *testing.T) {
	t.Parallel()
	const secret = "Tz9-secret-Qx"
	tests := []struct {
		name, url, want string
	}{
		{"empty", "", "empty Redis URL"},
		{"not a url", "redis://:" + secret + "%zz@host:6379", "does not parse"},
		{"bad port", "redis://:" + secret + "@host:port", "does not parse"},
		{"wrong scheme", "http://:" + secret + "@host:6379", `scheme "http"`},
		{"unix scheme", "unix:///tmp/redis.sock", `scheme "unix"`},
		{"password as user", "redis://" + secret + "@host:6379", "user but no password"},
		{"no host", "redis://:" + secret + "@:6379", "no host"},
		{"bad db", "redis://:" + secret + "@host:6379/abc", "invalid database"},
		{"unknown option", "redis://:" + secret + "@host:6379?bogus=1", "unexpected option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(context.Background(), tt.url, Options{})
			if err == nil {
				t.Fatalf("New(%q): got nil error", tt.name)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the password: %q", err)
			}
		})
	}
}

func TestNewMakesNoNetworkCall(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := New(context.Background(), "redis://"+l.Addr().String(), Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer s.Close()
	// A dial made during New would have completed its TCP handshake and be
	// waiting in the listener's backlog by now: Accept would return it.
	if err := l.(*net.TCPListener).SetDeadline(time.Now()); err != nil {
		t.Fatal(err)
	}
	if c, err := l.Accept(); err == nil {
		c.Close()
		t.Fatal("New dialled Redis; start-up must make no network call")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	if _, err := New(context.Background(), "redis://127.0.0.1:6379", Options{Retention: -time.Second}); err == nil {
		t.Error("negative retention: got nil error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(ctx, "redis://127.0.0.1:6379", Options{}); err == nil {
		t.Error("cancelled context: got nil error")
	}
}
