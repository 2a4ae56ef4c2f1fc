package store

import (
	"bytes"
	"encoding/json"
	"strings"
)

// ChangedAttributes names the attributes of a SCIM document that differ
// between before and after, lower-cased: each top-level key whose value
// changed, and for an extension object (a key beginning "urn:") also each
// of its keys that changed, as urn + ":" + key, the attribute's fully
// qualified SCIM name. It is what attribute rules are re-evaluated by, so it
// errs towards naming more: a document it cannot split answers ["*"],
// every attribute.
// Values are compared as the store wrote them (canonical JSON), not decoded.
func ChangedAttributes(before, after json.RawMessage) []string {
	var a, b map[string]json.RawMessage
	if len(before) > 0 && json.Unmarshal(before, &a) != nil || len(after) > 0 && json.Unmarshal(after, &b) != nil {
		return []string{"*"}
	}
	var out []string
	add := func(name string) { out = append(out, strings.ToLower(name)) }
	for k, v := range b {
		if w, ok := a[k]; !ok || !bytes.Equal(v, w) {
			add(k)
			if strings.HasPrefix(strings.ToLower(k), "urn:") {
				out = append(out, changedExtension(k, w, v)...)
			}
		}
	}
	for k, w := range a {
		if _, ok := b[k]; !ok {
			add(k)
			if strings.HasPrefix(strings.ToLower(k), "urn:") {
				out = append(out, changedExtension(k, w, nil)...)
			}
		}
	}
	return out
}

func changedExtension(urn string, before, after json.RawMessage) []string {
	var a, b map[string]json.RawMessage
	_ = json.Unmarshal(before, &a)
	_ = json.Unmarshal(after, &b)
	var out []string
	prefix := strings.ToLower(urn) + ":"
	for k, v := range b {
		if w, ok := a[k]; !ok || !bytes.Equal(v, w) {
			out = append(out, prefix+strings.ToLower(k))
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, prefix+strings.ToLower(k))
		}
	}
	return out
}
