package store

import "encoding/binary"

// Bucket names. Every bucket is top-level; composite keys are concatenations of
// fixed-length ids (see IDLen), 8-byte big-endian integers, and at most one
// variable-length part, always placed last or followed by a fixed-length id.
var (
	bucketMeta = []byte("meta") // schema version, revision, sequences

	bucketConnections     = []byte("connections")      // conID → connection
	bucketConnectionNames = []byte("connection_names") // fold(name) → conID
	bucketSCIMConfigs     = []byte("scim_configs")     // conID → SCIM configuration
	bucketSCIMTokens      = []byte("scim_tokens")      // tokID → token (hash only)
	bucketSCIMTokensByCon = []byte("scim_tokens_by_con")
	bucketAPIKeys         = []byte("api_keys") // keyID → API key (hash only)

	bucketUsers       = []byte("users")        // usrID → user
	bucketUserOrder   = []byte("user_order")   // conID|seq → usrID (creation order, stable paging)
	bucketUserChunks  = []byte("user_chunks")  // conID|seq>>chunkBits → count (ordinal skipping)
	bucketUserNames   = []byte("user_names")   // conID|fold(userName) → usrID (unique)
	bucketUserExtIDs  = []byte("user_ext_ids") // conID|externalId|usrID → ∅ (not unique)
	bucketGroups      = []byte("groups")
	bucketGroupOrder  = []byte("group_order")
	bucketGroupChunks = []byte("group_chunks")
	bucketGroupNames  = []byte("group_names")   // conID|fold(displayName) → grpID (unique)
	bucketGroupExtIDs = []byte("group_ext_ids") // conID|externalId|grpID → ∅
	bucketMembers     = []byte("members")       // grpID|memberID → member value
	bucketMemberOf    = []byte("member_of")     // memberID|grpID → ∅
	bucketMemberCount = []byte("member_counts") // grpID → count

	bucketAudit = []byte("audit") // seq → entry

	bucketRoles          = []byte("roles")         // rolID → role
	bucketRoleNames      = []byte("role_names")    // fold(name) → rolID (unique)
	bucketGroupRoles     = []byte("group_roles")   // grpID|rolID → ∅  (tenant scope)
	bucketRoleGroups     = []byte("role_groups")   // rolID|grpID → ∅
	bucketUserRoles      = []byte("user_roles")    // usrID|rolID → ∅  (direct)
	bucketRoleUsers      = []byte("role_users")    // rolID|usrID → ∅
	bucketOrgs           = []byte("organizations") // orgID → organization
	bucketOrgNames       = []byte("organization_names")
	bucketOrgConnections = []byte("org_connections")  // orgID|conID → enabled connection
	bucketConnectionOrgs = []byte("connection_orgs")  // conID|orgID → ∅
	bucketOrgMembers     = []byte("org_members")      // orgID|usrID → ∅ (explicit members)
	bucketUserOrgs       = []byte("user_orgs")        // usrID|orgID → ∅
	bucketOrgMemberRoles = []byte("org_member_roles") // orgID|usrID|rolID → ∅
	bucketUserOrgRoles   = []byte("user_org_roles")   // usrID|orgID|rolID → ∅
	bucketRoleOrgMembers = []byte("role_org_members") // rolID|orgID|usrID → ∅
	bucketOrgGroupRoles  = []byte("org_group_roles")  // orgID|grpID|rolID → ∅
	bucketGroupOrgRoles  = []byte("group_org_roles")  // grpID|orgID|rolID → ∅
	bucketRoleOrgGroups  = []byte("role_org_groups")  // rolID|orgID|grpID → ∅

	bucketChanges              = []byte("changes")                     // revision → changeRecord, shared engines only (follow.go)
	bucketResourceServers      = []byte("resource_servers")            // rsvID → resource server
	bucketResourceServerIdents = []byte("resource_server_identifiers") // identifier → rsvID (unique)
	bucketResourceServerRoles  = []byte("resource_server_roles")       // rsvID|rolID → ∅ (the role has permissions on it)
	bucketUserPermissions      = []byte("user_permissions")            // usrID|rsvID|scope → ∅ (direct)
	bucketResourceServerUsers  = []byte("resource_server_users")       // rsvID|usrID|scope → ∅

	bucketSessions      = []byte("dashboard_sessions")        // sesID → dashboard session (hash only)
	bucketSessionsByKey = []byte("dashboard_sessions_by_key") // keyID|sesID → ∅ (keyID: an API key id, or "bootstrap")

	// IdP role mappings (role_mappings.go).
	bucketRoleMappings           = []byte("role_mappings")              // rmpID → mapping
	bucketRoleMappingKeys        = []byte("role_mapping_keys")          // conID|rolID|orgID or noOrg|fold(value) → rmpID (unique)
	bucketConnectionRoleMappings = []byte("connection_role_mappings")   // conID|rmpID → ∅
	bucketRoleRoleMappings       = []byte("role_role_mappings")         // rolID|rmpID → ∅
	bucketOrgRoleMappings        = []byte("organization_role_mappings") // orgID|rmpID → ∅

	// Attribute rules (role_rules.go).
	bucketRoleRules           = []byte("role_rules")              // rulID → rule
	bucketRoleRoleRules       = []byte("role_role_rules")         // rolID|rulID → ∅
	bucketOrgRoleRules        = []byte("organization_role_rules") // orgID|rulID → ∅
	bucketConnectionRoleRules = []byte("connection_role_rules")   // conID|rulID → ∅
	// Derived effective roles (effective.go).
	bucketEffectiveRoles = []byte("effective_roles") // usrID → last recorded state of each scope
)

var allBuckets = [][]byte{
	bucketMeta,
	bucketConnections, bucketConnectionNames, bucketSCIMConfigs, bucketSCIMTokens, bucketSCIMTokensByCon, bucketAPIKeys,
	bucketUsers, bucketUserOrder, bucketUserChunks, bucketUserNames, bucketUserExtIDs,
	bucketGroups, bucketGroupOrder, bucketGroupChunks, bucketGroupNames, bucketGroupExtIDs,
	bucketMembers, bucketMemberOf, bucketMemberCount,
	bucketAudit,
	bucketRoles, bucketRoleNames, bucketGroupRoles, bucketRoleGroups, bucketUserRoles, bucketRoleUsers,
	bucketOrgs, bucketOrgNames, bucketOrgConnections, bucketConnectionOrgs, bucketOrgMembers, bucketUserOrgs,
	bucketOrgMemberRoles, bucketUserOrgRoles, bucketRoleOrgMembers,
	bucketOrgGroupRoles, bucketGroupOrgRoles, bucketRoleOrgGroups,
	bucketResourceServers, bucketResourceServerIdents, bucketResourceServerRoles, bucketUserPermissions, bucketResourceServerUsers,
	bucketChanges,
	bucketSessions, bucketSessionsByKey,
	bucketRoleMappings, bucketRoleMappingKeys, bucketConnectionRoleMappings, bucketRoleRoleMappings, bucketOrgRoleMappings,
	bucketEventStreams,
	bucketRoleRules, bucketRoleRoleRules, bucketOrgRoleRules, bucketConnectionRoleRules,
	bucketEffectiveRoles,
}

// Keys of bucketMeta.
var (
	metaSchemaVersion  = []byte("schema_version")
	metaRevision       = []byte("revision")
	metaTenantSettings = []byte("tenant_settings") // JSON; absent means every switch off
)

// metaSeqKey is the per-connection sequence that orders users or groups.
func metaSeqKey(kind, conID string) []byte { return []byte("seq/" + kind + "/" + conID) }

// maxIndexedLen bounds values that become part of a key (bbolt caps keys at
// 32 KiB; no real userName or externalId comes near this).
const maxIndexedLen = 2048

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func readU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// cat concatenates key parts into a fresh slice.
func cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func catS(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
