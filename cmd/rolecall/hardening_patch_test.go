package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolecall/rolecall/scim"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

// patchTenant is a data directory with a connection, a SCIM token and a
// group of n users labelled "Person i", served by rolecall.
type patchTenant struct {
	srv          *testServer
	base, token  string
	group        string
	users        []string
	connectionID string
}

func newPatchTenant(t *testing.T, n int) patchTenant {
	t.Helper()
	dir := t.TempDir()
	db, err := bboltdb.Open(dir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var pt patchTenant
	c := storetest.MustConnection(t, db, "patch")
	pt.connectionID = c.ID
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		var err error
		if _, pt.token, err = tx.CreateSCIMToken(c.ID, store.SCIMTokenScopes, 0); err != nil {
			return err
		}
		var ms []store.Member
		for i := range n {
			name := fmt.Sprintf("person%d@acme.test", i)
			u, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: name, Active: true, Doc: []byte(`{"userName":"` + name + `","active":true}`)})
			if err != nil {
				return err
			}
			pt.users = append(pt.users, u.ID)
			ms = append(ms, store.Member{ID: u.ID, Display: "Person " + strconv.Itoa(i)})
		}
		g, err := tx.CreateGroup(store.Group{ConnectionID: c.ID, DisplayName: "Big", Doc: []byte(`{"displayName":"Big"}`)}, ms)
		pt.group = g.ID
		return err
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	pt.srv = startServer(t, func(c *config) { c.Data = dir })
	pt.base = pt.srv.URL + "/scim/v2/connections/" + c.ID
	return pt
}

func (pt patchTenant) memberCount(t *testing.T) int {
	t.Helper()
	resp, g := call(t, "GET", pt.base+"/Groups/"+pt.group, pt.token, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET group: %d %v", resp.StatusCode, g)
	}
	ms, _ := g["members"].([]any)
	return len(ms)
}

func patchBody(ops []string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`
}

// TestPatchOverTheOperationCapIsRefused: a PATCH of one operation more than
// scim.MaxPatchOperations is 400 tooMany, its detail names the limit, and
// none of its operations is applied.
func TestPatchOverTheOperationCapIsRefused(t *testing.T) {
	pt := newPatchTenant(t, 10)
	ops := []string{`{"op":"replace","path":"displayName","value":"Renamed"}`}
	for i := 0; len(ops) <= scim.MaxPatchOperations; i++ {
		ops = append(ops, fmt.Sprintf(`{"op":"remove","path":"members[display eq \"Person %d\"]"}`, i%10))
	}
	resp, body := call(t, "PATCH", pt.base+"/Groups/"+pt.group, pt.token, patchBody(ops))
	if resp.StatusCode != http.StatusBadRequest || body["scimType"] != "tooMany" {
		t.Fatalf("PATCH of %d operations: %d %v, want 400 tooMany", len(ops), resp.StatusCode, body)
	}
	if d, _ := body["detail"].(string); !strings.Contains(d, strconv.Itoa(scim.MaxPatchOperations)) {
		t.Errorf("detail %q does not name the limit %d", d, scim.MaxPatchOperations)
	}
	_, g := call(t, "GET", pt.base+"/Groups/"+pt.group, pt.token, nil)
	if g["displayName"] != "Big" {
		t.Errorf("displayName %v after the refused PATCH, want Big", g["displayName"])
	}
	if got := pt.memberCount(t); got != 10 {
		t.Errorf("%d members after the refused PATCH, want 10", got)
	}
}

// TestWritesProceedWhileABigPatchIsWorkedOut: while one connection's PATCH
// of 900 member filters (each testing all 1,000 members) is being worked
// out, another connection's POSTs keep completing: the PATCH's work is not
// done on the commit path every write shares. Before, the POSTs queued
// behind it and only the first one or two got through (now: dozens to
// hundreds). The PATCH's outcome is checked too.
func TestWritesProceedWhileABigPatchIsWorkedOut(t *testing.T) {
	pt := newPatchTenant(t, 1000)
	var ops []string
	for range 900 {
		ops = append(ops, `{"op":"remove","path":"members[display sw \"nobody\"]"}`)
	}
	for i := range 50 {
		ops = append(ops, fmt.Sprintf(`{"op":"remove","path":"members[display eq \"person %d\"]"}`, i*20))
	}
	client := &http.Client{}
	defer client.CloseIdleConnections()
	post := func(name string) {
		status, err := send(client, "POST", pt.base+"/Users", pt.token, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s@acme.test"}`, name))
		if err != nil || status != http.StatusCreated {
			t.Fatalf("POST: %d %v, want 201", status, err)
		}
	}
	// What one POST costs alone on this store and machine (PostgreSQL's
	// commits are slower than bbolt's), to say how many fit in the PATCH.
	start := time.Now()
	for i := range 10 {
		post(fmt.Sprintf("before%d", i))
	}
	perPost := time.Since(start) / 10
	var patchDone atomic.Bool
	patched := make(chan int, 1)
	patchStart := time.Now()
	var patchTook time.Duration
	go func() {
		req, _ := http.NewRequest("PATCH", pt.base+"/Groups/"+pt.group, strings.NewReader(patchBody(ops)))
		req.Header.Set("Authorization", "Bearer "+pt.token)
		client := &http.Client{}
		defer client.CloseIdleConnections()
		resp, err := client.Do(req)
		patchTook = time.Since(patchStart)
		patchDone.Store(true)
		if err != nil {
			patched <- 0
			return
		}
		resp.Body.Close()
		patched <- resp.StatusCode
	}()
	during := 0
	for i := 0; !patchDone.Load(); i++ {
		post(fmt.Sprintf("during%d", i))
		if !patchDone.Load() {
			during++
		}
	}
	if status := <-patched; status != http.StatusNoContent {
		t.Fatalf("PATCH: %d, want 204", status)
	}
	// Had the POSTs waited for the PATCH, about one would finish during
	// it; going on beside it (sharing the CPU with it), a tenth of the
	// PATCH's time's worth at least.
	want := max(3, int(float64(patchTook)/float64(perPost)*0.1))
	t.Logf("%d POSTs during the %s PATCH (a POST alone: %s)", during, patchTook, perPost)
	if during < want {
		t.Errorf("%d POSTs completed while the PATCH was in progress, want at least %d: writes waited for it", during, want)
	}
	if got := pt.memberCount(t); got != 950 {
		t.Errorf("%d members after the PATCH, want 950", got)
	}
}
