package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolecall/rolecall/store/postgres/pgtest"
)

// TestThreeNodesServeOneTenant runs three `rolecall serve` processes on one
// PostgreSQL database (skipped without ROLECALL_TEST_POSTGRES): SCIM writes
// through nodes 1 and 2 are seen by effective-role queries with
// min_revision on node 3; kill -9 of node 1 during writes loses no
// acknowledged write and the others keep serving; a token revoked on node 2
// fails on node 3 within a second.
func TestThreeNodesServeOneTenant(t *testing.T) {
	dsn := pgtest.DSN(t)
	var nodes [3]*serverProcess
	for i := range nodes {
		nodes[i] = startProcess(t, t.TempDir(), "--store", dsn, "--scim-rate", "0")
	}
	admin := &testServer{URL: nodes[0].URL}
	conID, _ := admin.connection(t, "three-nodes")
	token := admin.scimToken(t, conID)
	scimBase := func(n int) string { return nodes[n].URL + "/scim/v2/connections/" + conID }
	newUser := func(n int, name string) (id string, rev string, status int) {
		resp, out := call(t, "POST", scimBase(n)+"/Users", token, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name})
		if resp.StatusCode == http.StatusCreated {
			id, _ = out["id"].(string)
		}
		return id, resp.Header.Get("Rolecall-Revision"), resp.StatusCode
	}

	// Writes through nodes 1 and 2, a role bound through node 1, and the
	// login query on node 3 with the last write's revision as the fence.
	alice, _, _ := newUser(0, "alice@acme.test")
	bob, _, _ := newUser(1, "bob@acme.test")
	resp, out := call(t, "POST", scimBase(1)+"/Groups", token, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Ops",
		"members": []map[string]any{{"value": alice}, {"value": bob}}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST group on node 2: %d %v", resp.StatusCode, out)
	}
	group := out["id"].(string)
	role := admin.api(t, "POST", "/roles", map[string]any{"name": "ops"}, http.StatusCreated)["id"].(string)
	resp, _ = call(t, "POST", nodes[0].URL+"/api/v2/groups/"+group+"/roles", testAdminToken, map[string]any{"roles": []string{role}})
	fence := resp.Header.Get("Rolecall-Revision")
	var rev uint64
	fmt.Sscan(fence, &rev)
	resp, out = call(t, "POST", nodes[2].URL+"/api/v2/effective-roles/query", testAdminToken, map[string]any{
		"subjects": []map[string]any{{"user_id": alice}, {"user_id": bob}}, "min_revision": rev, "include": []string{"claims"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("query on node 3 at revision %d: %d %v", rev, resp.StatusCode, out)
	}
	for i, r := range out["results"].([]any) {
		claims := r.(map[string]any)["claims"].(map[string]any)
		if fmt.Sprint(claims["roles"]) != "[ops]" {
			t.Errorf("subject %d on node 3: claims %v, want the role bound through node 1", i, claims)
		}
	}

	// kill -9 node 1 while writes go to nodes 1 and 2.
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for n := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 150; i++ {
				id, _, status := newUserQuiet(scimBase(n), token, fmt.Sprintf("n%d-%d@acme.test", n, i))
				if status == http.StatusCreated {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(150 * time.Millisecond)
	nodes[0].kill(t)
	wg.Wait()
	if len(acked) < 150 {
		t.Fatalf("only %d writes acknowledged: node 2 stopped serving?", len(acked))
	}
	for _, id := range acked {
		if resp, _ := call(t, "GET", scimBase(2)+"/Users/"+id, token, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("acknowledged user %s: %d on node 3", id, resp.StatusCode)
		}
	}

	// A token revoked through node 2 fails on node 3 within a second.
	admin = &testServer{URL: nodes[1].URL}
	tok := admin.api(t, "POST", "/connections/"+conID+"/scim-configuration/tokens", map[string]any{}, http.StatusCreated)
	secret := tok["token"].(string)
	if resp, _ := call(t, "GET", scimBase(2)+"/Users?count=1", secret, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh token on node 3: %d", resp.StatusCode)
	}
	resp, _ = call(t, "DELETE", nodes[1].URL+"/api/v2/connections/"+conID+"/scim-configuration/tokens/"+tok["token_id"].(string), testAdminToken, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke on node 2: %d", resp.StatusCode)
	}
	revoked := time.Now()
	for {
		resp, _ := call(t, "GET", scimBase(2)+"/Users?count=1", secret, nil)
		if resp.StatusCode == http.StatusUnauthorized {
			break
		}
		if time.Since(revoked) > time.Second {
			t.Fatalf("the revoked token still works on node 3 after %s", time.Since(revoked))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newUserQuiet POSTs a user and reports the status without failing the test
// (the node may be killed under it).
func newUserQuiet(base, token, name string) (id, rev string, status int) {
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q}`, name)
	req, _ := http.NewRequest("POST", base+"/Users", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", 0
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	_ = jsonDecode(resp.Body, &out)
	return out.ID, resp.Header.Get("Rolecall-Revision"), resp.StatusCode
}
