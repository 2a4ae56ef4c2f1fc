package scim_test

import (
	"net/http"
	"slices"
	"testing"
)

// TestDiscoveryListsIgnorePagingAndRefuseFilters: RFC 7644 §4 has /Schemas
// and /ResourceTypes return everything, whatever paging or sorting asks; a
// filter is 403 so a client cannot believe a condition held.
func TestDiscoveryListsIgnorePagingAndRefuseFilters(t *testing.T) {
	tg := newTarget(t)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/Schemas", []string{userSchema, enterpriseURN, groupSchema,
			"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
			"urn:ietf:params:scim:schemas:core:2.0:ResourceType",
			"urn:ietf:params:scim:schemas:core:2.0:Schema"}},
		{"/ResourceTypes", []string{"User", "Group"}},
	} {
		for _, query := range []string{"", "?count=1", "?startIndex=5&count=0", "?sortBy=id&sortOrder=descending"} {
			l := tg.mustList(t, "GET", tc.path+query, nil)
			if got := l.ids(); !slices.Equal(got, tc.want) {
				t.Errorf("GET %s%s: ids %v, want %v", tc.path, query, got, tc.want)
			}
			if l.TotalResults != len(tc.want) || l.ItemsPerPage != len(tc.want) || l.StartIndex != 1 {
				t.Errorf("GET %s%s: totalResults %d, itemsPerPage %d, startIndex %d; want %d, %d, 1",
					tc.path, query, l.TotalResults, l.ItemsPerPage, l.StartIndex, len(tc.want), len(tc.want))
			}
		}
		res := tg.do(t, "GET", tc.path+"?filter=id%20eq%20%22User%22", nil)
		wantSCIMError(t, res, http.StatusForbidden, "")
	}
	// One of each, by id, with its own location.
	rt := tg.mustDo(t, http.StatusOK, "GET", "/ResourceTypes/Group", nil).object(t)
	if rt["endpoint"] != "/Groups" || rt["schema"] != groupSchema {
		t.Errorf("/ResourceTypes/Group = %v", rt)
	}
	meta, _ := rt["meta"].(map[string]any)
	if loc, _ := meta["location"].(string); loc != tg.base+"/ResourceTypes/Group" {
		t.Errorf("meta.location = %q, want %q", loc, tg.base+"/ResourceTypes/Group")
	}
	wantSCIMError(t, tg.do(t, "GET", "/ResourceTypes/Widget", nil), http.StatusNotFound, "")
	wantSCIMError(t, tg.do(t, "GET", "/Schemas/urn:x", nil), http.StatusNotFound, "")
}

// TestTheServiceProviderConfigSchemaDescribesPagination: RFC 9865 §4 adds
// "pagination" to ServiceProviderConfig, which /ServiceProviderConfig returns,
// so its schema must list it with every sub-attribute the config uses.
func TestTheServiceProviderConfigSchemaDescribesPagination(t *testing.T) {
	tg := newTarget(t)
	s := tg.mustDo(t, http.StatusOK, "GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig", nil).object(t)
	spc := tg.mustDo(t, http.StatusOK, "GET", "/ServiceProviderConfig", nil).object(t)
	attrs := map[string]map[string]any{}
	for _, a := range s["attributes"].([]any) {
		attr := a.(map[string]any)
		attrs[attr["name"].(string)] = attr
	}
	for name, v := range spc {
		if name == "schemas" || name == "meta" {
			continue
		}
		if attrs[name] == nil {
			t.Errorf("/ServiceProviderConfig returns %q, which its schema does not list", name)
		}
		sub, ok := v.(map[string]any)
		if !ok || attrs[name] == nil {
			continue
		}
		listed := map[string]bool{}
		for _, sa := range attrs[name]["subAttributes"].([]any) {
			listed[sa.(map[string]any)["name"].(string)] = true
		}
		for k := range sub {
			if !listed[k] {
				t.Errorf("%s.%s is returned but not in the schema", name, k)
			}
		}
	}
}
