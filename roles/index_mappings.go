package roles

import (
	"slices"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
)

// MappingInfo is an IdP role mapping as sources show it: the idp_value the
// user's roles or entitlements carried, and the connection that sent it.
// Immutable like RoleInfo.
type MappingInfo struct {
	ID, ConnectionID, Value string
	jsonSource              []byte // {"type":"idp_role","value":…,"connection_id":…
}

type indexMapping struct {
	info *MappingInfo
	role *indexRole
	org  *indexOrg // nil: tenant scope
}

// addMapping indexes a mapping under its connection and folded value. One
// naming a role or organization the index does not hold changes nothing.
func (ix *Index) addMapping(m store.RoleMapping) {
	r := ix.roles[m.RoleID]
	if r == nil || ix.mappings[m.ID] != nil {
		return
	}
	var o *indexOrg
	if m.OrganizationID != "" {
		if o = ix.orgs[m.OrganizationID]; o == nil {
			return
		}
	}
	info := &MappingInfo{ID: m.ID, ConnectionID: m.ConnectionID, Value: m.IdPValue}
	info.jsonSource = httpconv.AppendJSONString([]byte(`{"type":"idp_role","value":`), m.IdPValue)
	info.jsonSource = httpconv.AppendJSONString(append(info.jsonSource, `,"connection_id":`...), m.ConnectionID)
	im := &indexMapping{info: info, role: r, org: o}
	ix.mappings[m.ID] = im
	byValue := ix.mappingsByValue[m.ConnectionID]
	if byValue == nil {
		byValue = map[string][]*indexMapping{}
		ix.mappingsByValue[ix.intern(m.ConnectionID)] = byValue
	}
	key := store.Fold(m.IdPValue)
	byValue[key] = append(byValue[key], im)
}

func (ix *Index) removeMapping(id string) {
	im := ix.mappings[id]
	if im == nil {
		return
	}
	delete(ix.mappings, id)
	byValue := ix.mappingsByValue[im.info.ConnectionID]
	key := store.Fold(im.info.Value)
	if list := remove(byValue[key], im); len(list) > 0 {
		byValue[key] = list
	} else {
		delete(byValue, key)
	}
	if len(byValue) == 0 {
		delete(ix.mappingsByValue, im.info.ConnectionID)
	}
}

// foldValues folds a user's IdP values for lookup, each once.
func foldValues(values []string) []string {
	if len(values) == 0 {
		return nil
	}
	out := make([]string, 0, len(values))
	for _, v := range values {
		if f := store.Fold(v); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
