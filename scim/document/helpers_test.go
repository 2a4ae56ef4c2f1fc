package document_test

import (
	"encoding/json"
	stderrors "errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/rolecall/rolecall/scim/document"
)

// decode decodes JSON the way the SCIM handlers do: numbers as json.Number.
func decode(tb testing.TB, s string) any {
	tb.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		tb.Fatalf("bad test JSON %s: %v", s, err)
	}
	return v
}

func decodeObject(tb testing.TB, s string) map[string]any {
	tb.Helper()
	m, ok := decode(tb, s).(map[string]any)
	if !ok {
		tb.Fatalf("test JSON %s is not an object", s)
	}
	return m
}

func decodeOps(tb testing.TB, s string) []document.Operation {
	tb.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var ops []document.Operation
	if err := d.Decode(&ops); err != nil {
		tb.Fatalf("bad test operations %s: %v", s, err)
	}
	return ops
}

func mustParseFilter(tb testing.TB, s string) filter.Expression {
	tb.Helper()
	e, err := document.ParseFilter(s)
	if err != nil {
		tb.Fatalf("ParseFilter(%q): %v", s, err)
	}
	return e
}

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// sameJSON compares two decoded values as JSON, so json.Number("1") and a
// literal 1 in the expectation agree.
func sameJSON(tb testing.TB, got any, want string) bool {
	tb.Helper()
	return reflect.DeepEqual(decode(tb, toJSON(got)), decode(tb, want))
}

// wantScimError checks that err is a 400 ScimError value (not a pointer) of
// the given type whose detail contains each of the given fragments.
func wantScimError(tb testing.TB, err error, scimType scimerrors.ScimType, detail ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %s", scimType)
	}
	se, ok := err.(scimerrors.ScimError)
	if !ok {
		var p *scimerrors.ScimError
		if stderrors.As(err, &p) {
			tb.Fatalf("got a *ScimError pointer, want a ScimError value: %v", err)
		}
		tb.Fatalf("got %T %v, want a ScimError", err, err)
	}
	if se.Status != 400 || se.ScimType != scimType {
		tb.Fatalf("got %d %s (%s), want 400 %s", se.Status, se.ScimType, se.Detail, scimType)
	}
	for _, d := range detail {
		if !strings.Contains(se.Detail, d) {
			tb.Errorf("detail %q does not mention %q", se.Detail, d)
		}
	}
}

// recordingEditor is a MemberEditor that records its calls.
type recordingEditor struct {
	calls    []string
	displays []string // "id=label" for every member added with a label
	err      error
}

func (e *recordingEditor) Add(members []document.Member) error {
	e.calls = append(e.calls, "Add"+toJSON(values(members)))
	e.displays = append(e.displays, displays(members)...)
	return e.err
}

func (e *recordingEditor) Replace(members []document.Member) error {
	e.calls = append(e.calls, "Replace"+toJSON(values(members)))
	e.displays = append(e.displays, displays(members)...)
	return e.err
}

func values(members []document.Member) []string {
	out := make([]string, len(members))
	for i, m := range members {
		out[i] = m.Value
	}
	return out
}

func displays(members []document.Member) []string {
	var out []string
	for _, m := range members {
		if m.Display != "" {
			out = append(out, m.Value+"="+m.Display)
		}
	}
	return out
}

func (e *recordingEditor) Remove(ids []string) error {
	e.calls = append(e.calls, "Remove"+toJSON(ids))
	return e.err
}

func (e *recordingEditor) RemoveAll() error {
	e.calls = append(e.calls, "RemoveAll")
	return e.err
}

func (e *recordingEditor) RemoveWhere(expr filter.Expression) error {
	e.calls = append(e.calls, fmt.Sprintf("RemoveWhere(%v)", expr))
	return e.err
}

// countingEditor counts calls without keeping anything, for benchmarks.
type countingEditor struct{ calls int }

func (e *countingEditor) Add([]document.Member) error         { e.calls++; return nil }
func (e *countingEditor) Replace([]document.Member) error     { e.calls++; return nil }
func (e *countingEditor) Remove([]string) error               { e.calls++; return nil }
func (e *countingEditor) RemoveAll() error                    { e.calls++; return nil }
func (e *countingEditor) RemoveWhere(filter.Expression) error { e.calls++; return nil }

// decodeInto decodes JSON into v as a cursor decoder would: numbers as
// json.Number.
func decodeInto(s string, v any) error {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	return d.Decode(v)
}
