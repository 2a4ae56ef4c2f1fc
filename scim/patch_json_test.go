package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/rolecall/rolecall/scim/document"
)

// decodePatchStd is how decodePatch read bodies before patchReader: with
// encoding/json. It is the reference patchReader must agree with.
func decodePatchStd(body []byte) ([]document.Operation, error) {
	var req struct {
		Schemas    []string `json:"schemas"`
		Operations []struct {
			Op    string          `json:"op"`
			Path  string          `json:"path"`
			Value json.RawMessage `json:"value"`
		} `json:"Operations"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, scimErr(400, scimerrors.ScimTypeInvalidSyntax, "%v", err)
	}
	found := false
	for _, s := range req.Schemas {
		found = found || strings.EqualFold(s, patchOpSchema)
	}
	switch {
	case !found, len(req.Operations) == 0:
		return nil, scimErr(400, scimerrors.ScimTypeInvalidSyntax, "schemas or operations")
	case len(req.Operations) > MaxPatchOperations:
		return nil, scimErr(400, scimerrors.ScimTypeTooMany, "too many")
	}
	ops := make([]document.Operation, len(req.Operations))
	for i, op := range req.Operations {
		ops[i] = document.Operation{Op: op.Op, Path: op.Path}
		if len(op.Value) == 0 || string(op.Value) == "null" {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(op.Value))
		dec.UseNumber()
		if err := dec.Decode(&ops[i].Value); err != nil {
			return nil, scimErr(400, scimerrors.ScimTypeInvalidSyntax, "%v", err)
		}
	}
	return ops, nil
}

// patchSeeds are PATCH bodies as IdPs send them (every PatchOp of the
// conformance scenarios) and bodies at the edges of the grammar.
func patchSeeds(tb testing.TB) [][]byte {
	seeds := [][]byte{
		[]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"u1"}]},{"op":"remove","path":"members[value eq \"u2\"]"}]}`),
		[]byte(`{"SCHEMAS":["URN:ietf:params:scim:api:messages:2.0:PatchOp"],"operations":[{"OP":"Replace","Value":{"active":false,"n":-1.5e+3,"z":0,"t":true,"f":false,"x":null}}]}`),
		[]byte(` null `),
		[]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":"\u00e9\ud83d\ude00\ud800x\udc00\u0000\"\\\/\b\f\n\r\t"}]}`),
		[]byte("{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"add\",\"value\":\"bad \xff\xfe utf8 \xe2\x82\"}]}"),
		[]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"a"}],"Operations":[{"op":"remove"},null]}`),
		[]byte(`{"schemas":["x",null,"urn:ietf:params:scim:api:messages:2.0:PatchOp"],"schemas":[null],"Operations":[null,{"op":5},{"path":[]}]}`),
		[]byte(`{"schemas":"urn:ietf:params:scim:api:messages:2.0:PatchOp","Operations":{}}`),
		[]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":[01]}]}`),
		[]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"a":{"b":[1,2,{"c":"d"}]},"a":2}}],"extra":{"k":[true,false,null]}}`),
		[]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":"\ud83d\u0041"}]} x`),
		[]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Repeat(`{"op":"remove","path":"members[value eq \"x\"]"},`, MaxPatchOperations) + `{"op":"add"}]}`),
		[]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":` + strings.Repeat("[", 9997) + strings.Repeat("]", 9997) + `}]}`),
		[]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}]}`),
	}
	files, err := filepath.Glob("../conformance/testdata/*/*.json")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no conformance scenarios: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var scenario struct {
			Steps []struct {
				Request struct {
					Method string          `json:"method"`
					Body   json.RawMessage `json:"body"`
				} `json:"request"`
			} `json:"steps"`
		}
		if json.Unmarshal(data, &scenario) != nil {
			continue
		}
		for _, st := range scenario.Steps {
			if st.Request.Method == "PATCH" && len(st.Request.Body) > 0 {
				seeds = append(seeds, st.Request.Body)
			}
		}
	}
	return seeds
}

// agree fails unless patchReader (through decodePatch) and encoding/json
// accept the same bodies, decode them to the same operations, and refuse
// the same ones for the same reason.
func agree(t *testing.T, body []byte) {
	got, err := decodePatch(body)
	want, wantErr := decodePatchStd(body)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("body %.300q: patchReader %v, encoding/json %v", body, err, wantErr)
	}
	if err != nil {
		var a, b scimerrors.ScimError
		if !errors.As(err, &a) || !errors.As(wantErr, &b) || a.ScimType != b.ScimType {
			t.Fatalf("body %.300q: patchReader %v, encoding/json %v", body, err, wantErr)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("body %.300q:\npatchReader   %#v\nencoding/json %#v", body, got, want)
	}
}

// patchReader decodes every body as encoding/json did: the seeds, and
// thousands of their mutations (bytes changed, cut, doubled; JSON's
// significant characters inserted), valid or not.
func TestPatchReaderDecodesAsEncodingJSON(t *testing.T) {
	seeds := patchSeeds(t)
	if len(seeds) < 50 {
		t.Fatalf("%d seeds; want the conformance scenarios' PATCH bodies", len(seeds))
	}
	for _, s := range seeds {
		agree(t, s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	special := []byte(`{}[]:,"\ -+.eE0123456789tfnu` + "\x00\x1f\x7f\xc3\xa9\xff\xed\xa0\x80")
	mutations := 20_000
	if testing.Short() {
		mutations = 2_000
	}
	for range mutations {
		seed := seeds[rng.IntN(len(seeds))]
		if len(seed) > 4096 {
			continue
		}
		b := bytes.Clone(seed)
		for range 1 + rng.IntN(3) {
			if len(b) == 0 {
				break
			}
			i := rng.IntN(len(b))
			switch rng.IntN(5) {
			case 0:
				b[i] = special[rng.IntN(len(special))]
			case 1:
				b = append(b[:i:i], append([]byte{special[rng.IntN(len(special))]}, b[i:]...)...)
			case 2:
				b = b[:i]
			case 3:
				b = append(b[:i:i], b[min(len(b), i+1+rng.IntN(8)):]...)
			case 4:
				j := rng.IntN(len(b))
				lo, hi := min(i, j), max(i, j)
				b = append(b[:hi:hi], b[lo:]...)
			}
		}
		agree(t, b)
	}
}

func FuzzPatchReader(f *testing.F) {
	for _, s := range patchSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) { agree(t, body) })
}
