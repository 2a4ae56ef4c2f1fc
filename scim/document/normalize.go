package document

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Normalize turns a decoded POST or PUT body (decoded with
// json.Decoder.UseNumber) into a document:
//
//   - attribute and sub-attribute names become canonical (matched
//     case-insensitively);
//   - unknown attributes are dropped (Entra's misspelt "adreses" vanishes),
//     and so are nulls (Entra sends "locality": null), empty objects and
//     empty lists;
//   - attributes a client cannot set are dropped: id, meta, schemas (the
//     caller validates schemas), a User's groups, read-only sub-attributes
//     such as manager.displayName, and password (accepted, never stored);
//   - a Group's members are left out: read them with Members;
//   - booleans sent as strings ("True", "false") become booleans; complex
//     values sent as JSON text are decoded; a multi-valued attribute sent as
//     one object becomes a list of one; the enterprise manager may be a bare
//     id ("mgr-id"), an object, or a list whose first element is used, and is
//     always stored as {"value": …};
//   - extension attributes may come in the extension's object or as
//     URN-qualified top-level keys
//     ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
//     and core ones as "name.givenName"; qualified keys are applied after
//     plain ones, so the more specific key wins.
//
// Errors are 400 invalidValue ScimErrors: a value of the wrong type that
// cannot be coerced (the detail names the attribute), or a missing or empty
// required attribute (userName for User, displayName for Group).
func (rt *ResourceType) Normalize(body map[string]any) (map[string]any, error) {
	doc := make(map[string]any, len(body))
	for _, key := range orderedKeys(body) {
		r, ok := rt.resolveKey(&rt.core, key)
		if !ok || body[key] == nil {
			continue
		}
		var err error
		if r.attr == nil {
			err = rt.normalizeExtension(doc, r.ext, body[key])
		} else {
			err = normalizeInto(doc, r, body[key])
		}
		if err != nil {
			return nil, err
		}
	}
	for _, a := range rt.required {
		if s, _ := container(doc, a, false)[a.name].(string); s == "" {
			return nil, errInvalidValue("%s is required and must be a non-empty string.", a.path)
		}
	}
	return doc, nil
}

func (rt *ResourceType) normalizeExtension(doc map[string]any, ext *extension, v any) error {
	obj, err := objectValue(v)
	if err != nil {
		return errInvalidValue("%s takes an object of extension attributes, not %s.", ext.urn, describe(v))
	}
	for _, key := range orderedKeys(obj) {
		r, ok := rt.resolveKey(&ext.attrs, key)
		if !ok || r.attr == nil || obj[key] == nil {
			continue
		}
		if err := normalizeInto(doc, r, obj[key]); err != nil {
			return err
		}
	}
	return nil
}

// normalizeInto stores v at r, unless r is not stored in documents.
func normalizeInto(doc map[string]any, r ref, v any) error {
	if !r.attr.stored || r.sub != nil && !r.sub.stored {
		return nil
	}
	if r.sub != nil {
		nv, err := normalizeValue(r.sub, v)
		if err != nil || nv == nil {
			return err
		}
		setSub(container(doc, r.attr, true), r.attr, r.sub, nv)
		return nil
	}
	nv, err := normalizeValue(r.attr, v)
	if err != nil || nv == nil {
		return err
	}
	c := container(doc, r.attr, true)
	if m, ok := nv.(map[string]any); ok && !r.attr.multi {
		nv = mergeComplex(r.attr, c[r.attr.name], m)
	}
	c[r.attr.name] = nv
	return nil
}

// resolveKey resolves a key of a body or of a pathless PATCH value: "name",
// "name.sub", "urn:…:name", "urn:…:name.sub", or an extension URN. Keys are
// not paths: value filters are not accepted, and no parser runs, so a body
// with many odd keys stays cheap.
func (rt *ResourceType) resolveKey(table *attrTable, key string) (ref, bool) {
	if a := table.lookup(key); a != nil {
		return ref{ext: a.ext, attr: a}, true
	}
	if table == &rt.core {
		if e := rt.extension(key); e != nil {
			return ref{ext: e}, true
		}
		if rest, ok := cutURN(key, rt.schema); ok {
			key = rest
		} else {
			for _, e := range rt.extensions {
				if rest, ok := cutURN(key, e.urn); ok {
					key, table = rest, &e.attrs
					break
				}
			}
		}
	}
	name, sub, dotted := strings.Cut(key, ".")
	a := table.lookup(name)
	if a == nil {
		return ref{}, false
	}
	r := ref{ext: a.ext, attr: a}
	if dotted {
		if r.sub = a.sub(sub); r.sub == nil {
			return ref{}, false
		}
	}
	return r, true
}

// cutURN strips "urn:" and the following ':' from key, case-insensitively.
func cutURN(key, urn string) (string, bool) {
	if len(key) > len(urn)+1 && key[len(urn)] == ':' && strings.EqualFold(key[:len(urn)], urn) {
		return key[len(urn)+1:], true
	}
	return "", false
}

// orderedKeys sorts plain keys before qualified ones ("name.givenName",
// "urn:…:department"), each group in byte order, so results do not depend on
// map iteration order and the more specific key is applied last. An
// extension's URN sorts before the keys it qualifies, being their prefix.
func orderedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		qa, qb := strings.ContainsAny(a, ".:"), strings.ContainsAny(b, ".:")
		if qa != qb {
			if qa {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	return keys
}

// container returns the map that holds attribute a: the document itself, or
// the extension's object, created when create is set. It returns nil when
// the extension's object is absent and create is not set; reading a nil map
// is safe.
func container(doc map[string]any, a *attribute, create bool) map[string]any {
	if a.ext == nil {
		return doc
	}
	m, ok := doc[a.ext.urn].(map[string]any)
	if !ok && create {
		m = make(map[string]any)
		doc[a.ext.urn] = m
	}
	return m
}

// normalizeValue returns the stored form of v for attribute a, or nil when v
// holds nothing (null, an empty object or list).
func normalizeValue(a *attribute, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.multi {
		return normalizeMulti(a, v)
	}
	return normalizeSingle(a, v)
}

func normalizeMulti(a *attribute, v any) (any, error) {
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case string:
		if a.typ == typeComplex {
			decoded, ok, err := decodeJSONText(a, x)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, errInvalidValue("%s takes a list of objects, not %s.", a.path, describe(v))
			}
			return normalizeMulti(a, decoded)
		}
		list = []any{x}
	default: // one value sent without its list
		list = []any{x}
	}
	out := make([]any, 0, len(list))
	for _, e := range list {
		ne, err := normalizeSingle(a, e)
		if err != nil {
			return nil, err
		}
		if ne != nil {
			out = append(out, ne)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// normalizeSingle returns the stored form of one value of a.
func normalizeSingle(a *attribute, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.typ {
	case typeComplex:
		switch x := v.(type) {
		case map[string]any:
			return normalizeComplex(a, x)
		case string:
			decoded, ok, err := decodeJSONText(a, x)
			if err != nil {
				return nil, err
			}
			if ok {
				if _, isList := decoded.([]any); isList && a.multi {
					return nil, errInvalidValue("%s takes objects; one of its values is a list.", a.path)
				}
				return normalizeSingle(a, decoded)
			}
			if !a.multi && a.valueSub != nil { // "manager": "mgr-id"
				return normalizeComplex(a, map[string]any{"value": x})
			}
		case []any:
			if !a.multi { // "manager": [{"value": "mgr-id"}]
				if len(x) == 0 {
					return nil, nil
				}
				return normalizeSingle(a, x[0])
			}
		}
		return nil, errInvalidValue("%s takes an object, not %s.", a.path, describe(v))
	case typeBoolean:
		if b, ok := boolean(v); ok {
			return b, nil
		}
		return nil, errInvalidValue("%s is boolean; send true or false, not %s.", a.path, describe(v))
	case typeDecimal, typeInteger:
		if s, ok := text(v); ok && isJSONNumber(s) {
			if _, err := strconv.ParseFloat(s, 64); err == nil && (a.typ == typeDecimal || isInteger(s)) {
				return json.Number(s), nil
			}
		}
		return nil, errInvalidValue("%s takes a number, not %s.", a.path, describe(v))
	case typeBinary:
		if x, ok := v.(string); ok {
			if isBase64(x) {
				return x, nil
			}
			return nil, errInvalidValue("%s is binary: send it base64-encoded (RFC 7643 §2.3.6, RFC 4648 §4), not %s.", a.path, describe(v))
		}
		return nil, errInvalidValue("%s is binary and takes a base64-encoded string, not %s.", a.path, describe(v))
	default: // string, reference, dateTime
		switch x := v.(type) {
		case string:
			if a.identifier {
				if i := controlChar(x); i >= 0 {
					return nil, errInvalidValue("%s must not contain control characters (found U+%04X at byte %d).", a.path, x[i], i)
				}
			}
			return x, nil
		}
		return nil, errInvalidValue("%s takes a string, not %s.", a.path, describe(v))
	}
}

// normalizeComplex keeps the known, client-writable, non-null sub-attributes
// of one complex value, under canonical names.
func normalizeComplex(a *attribute, m map[string]any) (any, error) {
	out := make(map[string]any, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // "Value" and "value" in one object: the result must not depend on map order
	for _, k := range keys {
		s := a.sub(k)
		if s == nil || !s.stored || m[k] == nil {
			continue
		}
		nv, err := normalizeValue(s, m[k])
		if err != nil {
			return nil, err
		}
		if nv != nil {
			out[s.name] = nv
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// decodeJSONText decodes a string that holds a JSON object or array, as
// Entra sends some complex values. ok is false when s does not look like one.
func decodeJSONText(a *attribute, s string) (v any, ok bool, err error) {
	t := strings.TrimSpace(s)
	if t == "" || t[0] != '{' && t[0] != '[' {
		return nil, false, nil
	}
	v, err = decodeJSON(t)
	if err != nil {
		return nil, false, errInvalidValue("%s holds a string that looks like JSON but does not parse: %v.", a.path, err)
	}
	return v, true, nil
}

func decodeJSON(s string) (any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errTrailingData
	}
	return v, nil
}

var errTrailingData = jsonError("unexpected data after the JSON value")

type jsonError string

func (e jsonError) Error() string { return string(e) }

// objectValue reads an object, or a JSON string holding one.
func objectValue(v any) (map[string]any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case string:
		if t := strings.TrimSpace(x); strings.HasPrefix(t, "{") {
			if d, err := decodeJSON(t); err == nil {
				if m, ok := d.(map[string]any); ok {
					return m, nil
				}
			}
		}
	}
	return nil, jsonError("not an object")
}

// isJSONNumber reports whether s is a number in JSON syntax (RFC 8259 §6).
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// isBase64 reports whether s is base64 in the standard alphabet (RFC 4648
// §4), padded or not; line breaks, as PEM bodies have them, are ignored.
func isBase64(s string) bool {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	}
	if _, err := base64.StdEncoding.DecodeString(s); err == nil {
		return true
	}
	_, err := base64.RawStdEncoding.DecodeString(s)
	return err == nil
}

func isInteger(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// Members reads the member ids of a Group body (POST or PUT), which Normalize
// leaves out of the document. present reports whether the body has a
// "members" key at all (matched case-insensitively), so that a PUT without
// one can be told from a PUT that empties the group. Members accepts what
// PATCH accepts: a list of {"value": id} objects (other sub-attributes are
// ignored), one such object, or JSON text holding either. For User it returns
// nothing.
//
// Errors are 400 invalidValue ScimErrors, for example for a bare string such
// as "string id 1" where a member object belongs.
func (rt *ResourceType) Members(body map[string]any) (members []Member, present bool, err error) {
	if rt.members == nil {
		return nil, false, nil
	}
	var keys []string
	for k := range body {
		if strings.EqualFold(k, "members") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		more, err := memberList(body[k])
		if err != nil {
			return nil, true, err
		}
		members = append(members, more...)
	}
	if len(keys) > 0 && members == nil {
		members = []Member{}
	}
	return members, len(keys) > 0, nil
}

// Member is one member reference of a Group body or PATCH value: the member's
// id and the display label the client sent with it, if any.
type Member struct {
	Value   string
	Display string
}

// memberValues lists the ids of members.
func memberValues(members []Member) []string {
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.Value
	}
	return ids
}

// memberList reads member references from a members value.
func memberList(v any) ([]Member, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]Member, 0, len(x))
		for _, e := range x {
			m, err := member(e)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, nil
	case map[string]any:
		m, err := member(x)
		if err != nil {
			return nil, err
		}
		return []Member{m}, nil
	case string:
		if t := strings.TrimSpace(x); t != "" && (t[0] == '{' || t[0] == '[') {
			decoded, err := decodeJSON(t)
			if err != nil {
				return nil, errInvalidValue("members holds a string that looks like JSON but does not parse: %v.", err)
			}
			return memberList(decoded)
		}
	}
	return nil, errInvalidMember(v)
}

// member reads one member reference. The label comes from "display" (RFC
// 7643 §4.2) or, as Microsoft's reference suite sends it, "displayName".
func member(v any) (Member, error) {
	id, err := memberID(v)
	if err != nil {
		return Member{}, err
	}
	m, _ := v.(map[string]any)
	if m == nil {
		if s, ok := v.(string); ok {
			d, _ := decodeJSON(strings.TrimSpace(s))
			m, _ = d.(map[string]any)
		}
	}
	var display string
	for _, name := range []string{"display", "displayName"} {
		for k, x := range m {
			if s, ok := x.(string); ok && display == "" && strings.EqualFold(k, name) {
				display = s
			}
		}
	}
	return Member{Value: id, Display: display}, nil
}

func memberID(v any) (string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		if s, isString := v.(string); isString {
			if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") {
				if d, err := decodeJSON(t); err == nil {
					return memberID(d)
				}
			}
		}
		return "", errInvalidMember(v)
	}
	value, found := m["value"]
	if !found {
		for k, x := range m {
			if strings.EqualFold(k, "value") {
				value, found = x, true
				break
			}
		}
	}
	id, _ := value.(string)
	if id == "" {
		return "", errInvalidValue("Each member needs a non-empty string \"value\" holding the member's id, as in {\"value\": \"usr_…\"}; got %s.", describeMember(m))
	}
	return id, nil
}

func errInvalidMember(v any) error {
	return errInvalidValue("Members are objects with the member's id in \"value\", as in [{\"value\": \"usr_…\"}]; got %s.", describe(v))
}

func describeMember(m map[string]any) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if e.Encode(m) != nil || b.Len() > 200 {
		return "an object without one"
	}
	return strings.TrimSpace(b.String())
}

// controlChar returns the index of the first C0 control character or DEL in
// s, or -1.
func controlChar(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return i
		}
	}
	return -1
}
