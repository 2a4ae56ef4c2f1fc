package streams_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/roles/streams"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// The dial-time check judges the address about to be connected to.
func TestRefuseNonGlobalAtDial(t *testing.T) {
	tests := []struct {
		name, address string
		want          string // "" = allowed
	}{
		{name: "public v4", address: "93.184.215.14:443"},
		{name: "public v6", address: "[2606:4700::6810:84e5]:443"},
		{name: "loopback", address: "127.0.0.1:8080", want: "endpoint resolves to a loopback address 127.0.0.1;"},
		{name: "private", address: "10.0.0.5:443", want: "endpoint resolves to a private address 10.0.0.5;"},
		{name: "metadata", address: "169.254.169.254:80", want: "cloud metadata address 169.254.169.254"},
		{name: "v6 loopback", address: "[::1]:443", want: "loopback address ::1"},
		{name: "mapped private", address: "[::ffff:192.168.1.1]:443", want: "private address ::ffff:192.168.1.1"},
		{name: "link-local zone", address: "[fe80::1%eth0]:443", want: "link-local address fe80::1%eth0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := streams.RefuseNonGlobal(context.Background(), "tcp", tc.address, nil)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("got %v, want allowed", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
			var ae *streams.AddressError
			if tc.want != "" && !errors.As(err, &ae) {
				t.Errorf("got %T, want *streams.AddressError", err)
			}
		})
	}
}

// A host name is checked on what it resolves to when dialled: "localhost"
// passes endpoint validation (it is no IP literal) but every address it
// resolves to is loopback, so without AllowHTTP neither deliveries nor test
// events reach the receiver, and the failures are recorded like any other.
func TestNameResolvingToLoopbackRefusedWithoutTheFlag(t *testing.T) {
	e := newEnv(t)
	var hits atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	endpoint := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/hook"
	var s store.EventStream
	storetest.MustUpdate(t, e.db, func(tx *store.Tx) (err error) {
		s, _, err = tx.CreateEventStream(store.EventStreamSpec{Name: ptr("ssrf"), Subscriptions: []string{store.EventUserCreated},
			Endpoint: ptr(endpoint)})
		return err
	})
	m := streams.New(e.db, e.index, streams.Options{MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		AttemptTimeout: 2 * time.Second, LeaseTTL: 300 * time.Millisecond, Log: zerolog.Nop()})
	run(t, m)

	a, err := m.Test(context.Background(), s.ID)
	if err != nil || a.OK || !strings.Contains(a.Error, "endpoint resolves to a loopback address") {
		t.Errorf("test event: %+v (%v), want refused as loopback", a, err)
	}
	e.users(t, "u", 1)
	waitFor(t, "two failed deliveries", func() bool {
		n := 0
		for _, d := range deliveries(t, m, s.ID) {
			if d.EventType == store.EventUserCreated && !d.OK {
				n++
			}
		}
		return n >= 2
	})
	for _, d := range deliveries(t, m, s.ID) {
		if d.OK || d.StatusCode != 0 || !strings.Contains(d.Error, "loopback address") || !strings.Contains(d.Error, "--allow-http-webhooks") {
			t.Errorf("attempt %+v, want refused before connecting", d)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the receiver got %d requests, want 0", n)
	}
}

// An IP literal endpoint in a private range fails before any dial, with the
// store's reason.
func TestPrivateIPLiteralEndpointRefusedWithoutTheFlag(t *testing.T) {
	e := newEnv(t)
	var s store.EventStream
	storetest.MustUpdate(t, e.db, func(tx *store.Tx) (err error) {
		s, _, err = tx.CreateEventStream(store.EventStreamSpec{Name: ptr("meta"), Subscriptions: []string{store.EventUserCreated},
			Endpoint: ptr("https://169.254.169.254/latest/meta-data/")})
		return err
	})
	m := streams.New(e.db, e.index, streams.Options{Log: zerolog.Nop()})
	a, err := m.Test(context.Background(), s.ID)
	if err != nil || a.OK || !strings.Contains(a.Error, "cloud metadata address 169.254.169.254") {
		t.Errorf("attempt %+v (%v), want refused as cloud metadata", a, err)
	}
}
