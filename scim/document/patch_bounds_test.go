package document_test

import (
	"fmt"
	"strconv"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/rolecall/rolecall/scim/document"
)

// titleOps returns n operations that each replace a user's title.
func titleOps(n int) []document.Operation {
	ops := make([]document.Operation, n)
	for i := range ops {
		ops[i] = document.Operation{Op: "replace", Path: "title", Value: "t" + strconv.Itoa(i)}
	}
	return ops
}

// emails returns n distinct email values.
func emails(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"value": fmt.Sprintf("e%d@example.com", i), "type": "work"}
	}
	return out
}

// TestApplyBoundsItsWork: more than MaxOperations operations, or operations
// whose work on multi-valued attributes adds up beyond MaxCost, fail with
// 400 tooMany naming the limit; requests of real sizes pass.
func TestApplyBoundsItsWork(t *testing.T) {
	cases := []struct {
		name    string
		ops     []document.Operation
		tooMany string // the limit the detail must name; "" for success
	}{
		{"MaxOperations operations", titleOps(document.MaxOperations), ""},
		{"one more than MaxOperations", titleOps(document.MaxOperations + 1), strconv.Itoa(document.MaxOperations)},
		{"a list of 100 emails", []document.Operation{{Op: "add", Path: "emails", Value: emails(100)}}, ""},
		{"a list of 3,000 emails, quadratic to de-duplicate", []document.Operation{{Op: "add", Path: "emails", Value: emails(3000)}}, strconv.Itoa(document.MaxCost)},
		{"3,000 emails added one by one, each op scanning the list so far", func() []document.Operation {
			var ops []document.Operation
			for _, e := range emails(3000) {
				ops = append(ops, document.Operation{Op: "add", Path: "emails", Value: []any{e}})
			}
			return ops
		}(), strconv.Itoa(document.MaxCost)},
		{"the same list as JSON text", []document.Operation{{Op: "add", Path: "emails", Value: toJSON(emails(3000))}}, strconv.Itoa(document.MaxCost)},
		{"many filtered operations on a short list", func() []document.Operation {
			var ops []document.Operation
			for i := range 5000 {
				ops = append(ops, document.Operation{Op: "replace", Path: `emails[type eq "work"].value`, Value: fmt.Sprintf("w%d@example.com", i)})
			}
			return ops
		}(), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := decodeObject(t, patchUser)
			err := document.User.Apply(doc, c.ops, nil)
			if c.tooMany == "" {
				if err != nil {
					t.Fatalf("Apply = %v, want success", err)
				}
				return
			}
			wantScimError(t, err, scimerrors.ScimTypeTooMany, c.tooMany)
		})
	}
}
