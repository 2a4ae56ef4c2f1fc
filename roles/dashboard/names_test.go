package dashboard_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
)

// Templates name scopes as strings (.Can "read:roles"); a misspelt one would
// silently hide its control from every key. Each must be one the API defines.
func TestTemplatesCheckOnlyScopesTheAPIDefines(t *testing.T) {
	files, err := filepath.Glob("templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates found: %v", err)
	}
	can := regexp.MustCompile(`\.Can "([^"]*)"`)
	checked := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range can.FindAllSubmatch(raw, -1) {
			checked++
			if scope := string(m[1]); !slices.Contains(api.AllScopes, scope) {
				t.Errorf("%s checks scope %q, which the Management API does not define", f, scope)
			}
		}
	}
	if checked == 0 {
		t.Error("no .Can checks found in the templates; has the syntax changed?")
	}
}
