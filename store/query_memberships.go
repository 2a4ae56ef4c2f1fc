package store

import (
	"slices"
	"strings"
)

// Reads for the Management API's membership listings: organizations by name,
// explicit members paged by seeking, and the organizations a user belongs to.
// Each costs what it returns (plus a seek), never a scan of everything.

// OrganizationByName returns the organization with the given name, compared
// case-insensitively as names are unique; ErrNotFound when there is none.
func (r *ReadTx) OrganizationByName(name string) (Organization, error) {
	id := r.get(bucketOrgNames, []byte(Fold(name)))
	if id == nil {
		return Organization{}, errorf(ErrNotFound, "no organization is named %q", name)
	}
	return r.Organization(string(id))
}

// OrganizationMemberIDs pages the explicit members of an organization in user
// id order, after the user id `after`, at most take (take <= 0: all), seeking
// to `after` so that a page costs O(take + log n). next is the last id
// returned while more remain. ErrNotFound for an unknown organization.
func (r *ReadTx) OrganizationMemberIDs(orgID, after string, take int) (ids []string, next string, err error) {
	if _, err := r.Organization(orgID); err != nil {
		return nil, "", err
	}
	ids, next = r.pageSuffixes(bucketOrgMembers, orgID, after, take)
	return ids, next, nil
}

// IsExplicitOrganizationMember reports whether the user was added to the
// organization explicitly (not only through auto-membership).
func (r *ReadTx) IsExplicitOrganizationMember(orgID, userID string) bool {
	return r.has(bucketOrgMembers, catS(orgID, userID))
}

// UserConnectionID returns the connection of a user without decoding its
// record; ErrNotFound for an unknown user.
func (r *ReadTx) UserConnectionID(userID string) (string, error) {
	if !ValidID(PrefixUser, userID) {
		return "", notFound("user", userID)
	}
	raw := r.get(bucketUsers, []byte(userID))
	if len(raw) < IDLen {
		return "", notFound("user", userID)
	}
	return string(raw[:IDLen]), nil
}

// UserOrganization is one organization a user is a member of, and how.
type UserOrganization struct {
	OrganizationID string
	// Explicit is set when the user was added explicitly; otherwise the user
	// is a member because its connection is enabled on the organization with
	// assign_membership_on_login. A user who is both is Explicit.
	Explicit bool
}

// UserOrganizations lists the organizations a user is a member of, explicitly
// or through auto-membership, in organization id order. ErrNotFound for an
// unknown user.
func (r *ReadTx) UserOrganizations(userID string) ([]UserOrganization, error) {
	conID, err := r.UserConnectionID(userID)
	if err != nil {
		return nil, err
	}
	explicit := r.bindingIDs(bucketUserOrgs, userID) // in organization id order
	out := make([]UserOrganization, 0, len(explicit))
	for _, id := range explicit {
		out = append(out, UserOrganization{OrganizationID: id, Explicit: true})
	}
	for _, orgID := range r.bindingIDs(bucketConnectionOrgs, conID) {
		if _, found := slices.BinarySearch(explicit, orgID); found {
			continue
		}
		var ec EnabledConnection
		if ok, err := r.getJSON(bucketOrgConnections, catS(orgID, conID), &ec); err != nil {
			return nil, err
		} else if ok && ec.AssignMembershipOnLogin {
			out = append(out, UserOrganization{OrganizationID: orgID})
		}
	}
	slices.SortFunc(out, func(a, b UserOrganization) int { return strings.Compare(a.OrganizationID, b.OrganizationID) })
	return out, nil
}
