package client_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles/client"
)

// countingTransport counts the requests a client sends.
type countingTransport struct{ n atomic.Int64 }

func (ct *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ct.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// fakeClock is a clock the test moves.
type fakeClock struct{ now atomic.Int64 }

func (f *fakeClock) Now() time.Time          { return time.Unix(0, f.now.Load()) }
func (f *fakeClock) Advance(d time.Duration) { f.now.Add(int64(d)) }

func TestResolverCachesAndSeesChanges(t *testing.T) {
	admin, base := newClient(t)
	ctx := context.Background()
	dir := newDirectory(t, admin)
	alice := dir.user("alice")
	eng := dir.group("engineering", alice)
	editor := must2[*client.Role](t)(admin.CreateRole(ctx, client.RoleCreate{Name: "editor"}))
	if _, err := admin.BindGroups(ctx, editor.ID, eng); err != nil {
		t.Fatal(err)
	}

	// The login server's own client and resolver.
	ct := &countingTransport{}
	login := client.New(base, adminToken, client.WithHTTPClient(&http.Client{Transport: ct}))
	clock := &fakeClock{}
	res := client.NewResolver(login, client.ResolverOptions{TTL: time.Minute, Now: clock.Now})
	res.Fence(admin.LastRevision()) // the setup above was written by another client
	subject := client.Subject{UserID: alice}

	got, err := res.Resolve(ctx, subject)
	if err != nil || !got.HasRole("editor") {
		t.Fatalf("first Resolve: %+v, %v; want editor", got, err)
	}
	for range 3 {
		if _, err := res.Resolve(ctx, subject); err != nil {
			t.Fatal(err)
		}
	}
	if n := ct.n.Load(); n != 1 {
		t.Errorf("four Resolves sent %d requests, want 1 (the rest from the cache)", n)
	}

	// The login server unbinds the role itself: its next answer drops it at once.
	rev, err := login.UnbindGroups(ctx, editor.ID, eng)
	if err != nil {
		t.Fatal(err)
	}
	got, err = res.Resolve(ctx, subject)
	if err != nil || got.HasRole("editor") || got.Revision < rev {
		t.Errorf("after UnbindGroups at %d: %+v (revision %d), %v; want editor gone", rev, got.Roles, got.Revision, err)
	}

	// A change made elsewhere is served stale until the TTL, then seen.
	if _, err := admin.BindGroups(ctx, editor.ID, eng); err != nil {
		t.Fatal(err)
	}
	if got, _ := res.Resolve(ctx, subject); got.HasRole("editor") {
		t.Errorf("within the TTL: the cached answer changed without a request")
	}
	clock.Advance(time.Minute)
	if got, err := res.Resolve(ctx, subject); err != nil || !got.HasRole("editor") {
		t.Errorf("after the TTL: %+v, %v; want editor back", got.Roles, err)
	}

	// A fence, as a change-feed or webhook consumer sets it, is exact at once.
	rev, err = admin.UnbindGroups(ctx, editor.ID, eng)
	if err != nil {
		t.Fatal(err)
	}
	res.Fence(rev)
	if got, err := res.Resolve(ctx, subject); err != nil || got.HasRole("editor") {
		t.Errorf("after Fence(%d): %+v, %v; want editor gone", rev, got.Roles, err)
	}

	// An unknown subject is an error value, and not cached.
	_, err = res.Resolve(ctx, client.Subject{UserID: "usr_nobody"})
	var se *client.SubjectError
	if !errors.As(err, &se) || se.ErrorCode != "user_not_found" {
		t.Errorf("unknown subject: got %v, want a user_not_found *SubjectError", err)
	}
	if n := res.Len(); n != 1 {
		t.Errorf("cache holds %d answers, want 1", n)
	}
}

// A full cache drops its oldest answer rather than growing.
func TestResolverIsBounded(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	dir := newDirectory(t, c)
	clock := &fakeClock{}
	res := client.NewResolver(c, client.ResolverOptions{MaxEntries: 2, Now: clock.Now})
	ids := []string{dir.user("a"), dir.user("b"), dir.user("c")}
	for _, id := range ids {
		clock.Advance(time.Second)
		if _, err := res.Resolve(ctx, client.Subject{UserID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if n := res.Len(); n != 2 {
		t.Errorf("cache holds %d answers, want MaxEntries 2", n)
	}
}

// TestResolverFollowsTheChangeFeed: with Follow running, a change made by
// another client (an admin unbinding a role) reaches the cached answers
// without waiting out the TTL.
func TestResolverFollowsTheChangeFeed(t *testing.T) {
	admin, base := newClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := newDirectory(t, admin)
	alice := dir.user("alice")
	eng := dir.group("engineering", alice)
	editor := must2[*client.Role](t)(admin.CreateRole(ctx, client.RoleCreate{Name: "editor"}))
	if _, err := admin.BindGroups(ctx, editor.ID, eng); err != nil {
		t.Fatal(err)
	}
	login := client.New(base, adminToken)
	res := client.NewResolver(login, client.ResolverOptions{TTL: time.Hour})
	res.Fence(admin.LastRevision())
	followed := make(chan error, 1)
	go func() { followed <- res.Follow(ctx) }()
	subject := client.Subject{UserID: alice}
	if got, err := res.Resolve(ctx, subject); err != nil || !got.HasRole("editor") {
		t.Fatalf("first Resolve: %+v, %v", got, err)
	}
	if _, err := admin.UnbindGroups(ctx, editor.ID, eng); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := res.Resolve(ctx, subject)
		if err != nil {
			t.Fatal(err)
		}
		if !got.HasRole("editor") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the unbinding never reached the cached answer (TTL one hour): Follow did not fence the cache")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-followed; err != context.Canceled {
		t.Errorf("Follow returned %v, want context.Canceled", err)
	}
}
