package scim

import (
	"strconv"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/scim/document"
)

// BenchmarkDecodePatch decodes a PATCH of 1,000 member operations, half adds
// with a value and half filtered removes, the shape Okta and Entra send:
// decoder=reader is decodePatch, decoder=encoding-json the way it decoded
// before patchReader.
func BenchmarkDecodePatch(b *testing.B) {
	for _, d := range []struct {
		name   string
		decode func([]byte) ([]document.Operation, error)
	}{{"reader", decodePatch}, {"encoding-json", decodePatchStd}} {
		b.Run("decoder="+d.name, func(b *testing.B) { benchmarkDecodePatch(b, d.decode) })
	}
}

func benchmarkDecodePatch(b *testing.B, decode func([]byte) ([]document.Operation, error)) {
	var ops []string
	for i := range 1000 {
		id := "usr_01m9724c6b4n" + strconv.Itoa(1000+i)
		if i%2 == 0 {
			ops = append(ops, `{"op":"add","path":"members","value":[{"value":"`+id+`"}]}`)
		} else {
			ops = append(ops, `{"op":"remove","path":"members[value eq \"`+id+`\"]"}`)
		}
	}
	body := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
