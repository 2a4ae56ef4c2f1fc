package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Verify checks every cross-record invariant the store maintains: indexes
// point at records that carry the indexed value, every record is indexed,
// memberships exist in both directions with correct counts, ordinal chunk
// counts match the order keys, and token indexes match tokens. It returns all
// problems found, joined. Tests call it after every test (storetest.Open);
// operators can run it against a copy of a data file.
func (db *DB) Verify() error {
	var problems []error
	report := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Errorf(format, args...))
		}
	}
	err := db.View(func(r *ReadTx) error {
		db.verify(r, report)
		return nil
	})
	return errors.Join(append(problems, err)...)
}

// maxProblems bounds what Verify and Check report: a badly damaged file would
// otherwise produce one line per record.
const maxProblems = 50

// RecordCount is how many keys one kind of record has.
type RecordCount struct {
	Kind  string
	Count int
}

// countedBuckets are the records a check report counts.
var countedBuckets = []struct {
	kind   string
	bucket []byte
}{
	{"connections", bucketConnections}, {"SCIM tokens", bucketSCIMTokens}, {"API keys", bucketAPIKeys},
	{"users", bucketUsers}, {"groups", bucketGroups}, {"memberships", bucketMembers},
	{"roles", bucketRoles}, {"APIs", bucketResourceServers}, {"organizations", bucketOrgs}, {"audit entries", bucketAudit},
}

// Inspection is what Inspect found in a store's data.
type Inspection struct {
	SchemaVersion uint64
	Revision      uint64
	Counts        []RecordCount
	// Problems are broken store invariants ("invariant: …"), at most 50.
	Problems []string
}

// Inspect reads a store's data through a read transaction of an engine that
// New has not opened (an offline check, rolecall check): its schema version
// and revision, how many records of each kind it holds, and every broken
// invariant Verify would report. Data that is not a Rolecall store is a
// *FileError wrapping ErrNotDataFile; data of a newer Rolecall,
// ErrNewerSchema. Invariants are checked only for this binary's schema
// version (an older layout would be migrated first).
func Inspect(etx EngineTx, location string) (Inspection, error) {
	var in Inspection
	meta := etx.Bucket(bucketMeta)
	if meta == nil {
		return in, fileErrorf(location, ErrNotDataFile, "it holds data, but without Rolecall's meta bucket")
	}
	in.SchemaVersion = readU64(meta.Get(metaSchemaVersion))
	in.Revision = readU64(meta.Get(metaRevision))
	switch {
	case in.SchemaVersion == 0:
		in.Problems = append(in.Problems, "invariant: the meta bucket has no schema version")
	case in.SchemaVersion > schemaVersion:
		return in, fmt.Errorf("store: %s: %w (data %d, binary %d); check it with the newer Rolecall", location, ErrNewerSchema, in.SchemaVersion, schemaVersion)
	}
	for _, c := range countedBuckets {
		if b := etx.Bucket(c.bucket); b != nil {
			n := 0
			cur := b.Cursor()
			for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
				n++
			}
			in.Counts = append(in.Counts, RecordCount{c.kind, n})
		}
	}
	if in.SchemaVersion != schemaVersion {
		return in, etx.Err()
	}
	db := &DB{now: time.Now}
	db.revision.Store(in.Revision)
	n := 0
	db.verify(&ReadTx{etx: etx, db: db}, func(format string, args ...any) {
		if n++; n <= maxProblems {
			in.Problems = append(in.Problems, "invariant: "+fmt.Sprintf(format, args...))
		}
	})
	return in, etx.Err()
}

// FileErrorf returns a *FileError about the data at location: for engines,
// which find most of the reasons data cannot be used.
func FileErrorf(location string, kind error, format string, args ...any) error {
	return fileErrorf(location, kind, format, args...)
}

// verify reports every broken invariant it finds in r.
func (db *DB) verify(r *ReadTx, report func(string, ...any)) {
	if got := readU64(r.get(bucketMeta, metaRevision)); got != db.Revision() {
		report("meta revision %d != in-memory revision %d", got, db.Revision())
	}
	verifyResources(r, report, "user", bucketUsers, userOrdinal, bucketUserNames, bucketUserExtIDs,
		func(raw []byte) (string, string, string, uint64, error) {
			u, err := decodeUser(raw)
			return u.ConnectionID, u.UserName, u.ExternalID, u.seq, err
		})
	verifyResources(r, report, "group", bucketGroups, groupOrdinal, bucketGroupNames, bucketGroupExtIDs,
		func(raw []byte) (string, string, string, uint64, error) {
			var rec groupRecord
			err := json.Unmarshal(raw[IDLen:], &rec)
			return rec.ConnectionID, rec.DisplayName, rec.ExternalID, rec.Seq, err
		})
	verifyMemberships(r, report)
	verifyBindings(r, report)
	verifyResourceServers(r, report)
	verifySessions(r, report)
	verifyRoleMappings(r, report)
	verifyEventStreams(r, report)
	verifyRoleRules(r, report)
	r.scanPrefix(bucketSCIMTokensByCon, nil, func(k, _ []byte) bool {
		if !r.has(bucketSCIMTokens, k[IDLen:]) {
			report("token index %q points at a missing token", k)
		}
		return true
	})
}

type decodeFunc func(raw []byte) (conID, name, extID string, seq uint64, err error)

func verifyResources(r *ReadTx, report func(string, ...any), kind string, records []byte, ord ordinal, names, extIDs []byte, decode decodeFunc) {
	chunkCounts := map[string]uint64{}
	r.scanPrefix(records, nil, func(k, v []byte) bool {
		id := string(k)
		if len(v) < IDLen {
			report("%s %s: record of %d bytes is cut short", kind, id, len(v))
			return true
		}
		conID, name, ext, seq, err := decode(v)
		if err != nil {
			report("%s %s: %v", kind, id, err)
			return true
		}
		if string(v[:IDLen]) != conID {
			report("%s %s: key prefix %q != connection %q", kind, id, v[:IDLen], conID)
		}
		if !r.has(bucketConnections, []byte(conID)) {
			report("%s %s: connection %s missing", kind, id, conID)
		}
		if got := r.get(names, catS(conID, Fold(name))); string(got) != id {
			report("%s %s: name index for %q points at %q", kind, id, name, got)
		}
		if ext != "" && !r.has(extIDs, catS(conID, ext, id)) {
			report("%s %s: externalId %q not indexed", kind, id, ext)
		}
		if got := r.get(ord.order, cat([]byte(conID), u64(seq))); string(got) != id {
			report("%s %s: order key %d points at %q", kind, id, seq, got)
		}
		chunkCounts[string(cat([]byte(conID), u64(seq>>chunkBits)))]++
		return true
	})
	r.scanPrefix(names, nil, func(k, v []byte) bool {
		if !r.inConnection(records, string(k[:IDLen]), string(v)) {
			report("%s name index %q points at %q, not a %s of that connection", kind, k, v, kind)
		}
		return true
	})
	r.scanPrefix(extIDs, nil, func(k, _ []byte) bool {
		if len(k) < 2*IDLen || !r.inConnection(records, string(k[:IDLen]), string(k[len(k)-IDLen:])) {
			report("%s externalId index %q points at a missing %s", kind, k, kind)
		}
		return true
	})
	orderCount := 0
	r.scanPrefix(ord.order, nil, func(k, v []byte) bool {
		orderCount++
		if !r.inConnection(records, string(k[:IDLen]), string(v)) {
			report("%s order key %x points at missing %q", kind, k, v)
		}
		return true
	})
	r.scanPrefix(ord.chunks, nil, func(k, v []byte) bool {
		if got, want := readU64(v), chunkCounts[string(k)]; got != want {
			report("%s chunk %s/%d counts %d, has %d", kind, k[:IDLen], binary.BigEndian.Uint64(k[IDLen:]), got, want)
		}
		delete(chunkCounts, string(k))
		return true
	})
	for k, n := range chunkCounts {
		report("%s chunk %q with %d entries has no count", kind, k, n)
	}
}

func verifyMemberships(r *ReadTx, report func(string, ...any)) {
	counts := map[string]uint64{}
	r.scanPrefix(bucketMembers, nil, func(k, _ []byte) bool {
		gid, mid := string(k[:IDLen]), string(k[IDLen:])
		counts[gid]++
		g, err := r.GroupByID(gid)
		if err != nil {
			report("membership %s→%s: group missing", gid, mid)
			return true
		}
		if !r.inConnection(bucketUsers, g.ConnectionID, mid) && !r.inConnection(bucketGroups, g.ConnectionID, mid) {
			report("membership %s→%s: member is not of connection %s", gid, mid, g.ConnectionID)
		}
		if !r.has(bucketMemberOf, catS(mid, gid)) {
			report("membership %s→%s: reverse key missing", gid, mid)
		}
		return true
	})
	r.scanPrefix(bucketMemberOf, nil, func(k, _ []byte) bool {
		mid, gid := string(k[:IDLen]), string(k[IDLen:])
		if !r.has(bucketMembers, catS(gid, mid)) {
			report("reverse membership %s←%s has no forward key", gid, mid)
		}
		return true
	})
	r.scanPrefix(bucketMemberCount, nil, func(k, v []byte) bool {
		if got, want := readU64(v), counts[string(k)]; got != want {
			report("group %s member count %d, has %d members", k, got, want)
		}
		delete(counts, string(k))
		return true
	})
	for gid, n := range counts {
		report("group %s has %d members but no count", gid, n)
	}
}

// bindingIndex is a key-only binding stored in two (or three) directions: the
// ids of a forward key, reordered by perm, form the reverse key.
type bindingIndex struct {
	forward, reverse []byte
	perm             []int // reverse part i is forward part perm[i]
	kinds            []string
}

var bindingIndexes = []bindingIndex{
	{bucketGroupRoles, bucketRoleGroups, []int{1, 0}, []string{PrefixGroup, PrefixRole}},
	{bucketUserRoles, bucketRoleUsers, []int{1, 0}, []string{PrefixUser, PrefixRole}},
	{bucketOrgMembers, bucketUserOrgs, []int{1, 0}, []string{PrefixOrganization, PrefixUser}},
	{bucketOrgMemberRoles, bucketUserOrgRoles, []int{1, 0, 2}, []string{PrefixOrganization, PrefixUser, PrefixRole}},
	{bucketOrgMemberRoles, bucketRoleOrgMembers, []int{2, 0, 1}, []string{PrefixOrganization, PrefixUser, PrefixRole}},
	{bucketOrgGroupRoles, bucketGroupOrgRoles, []int{1, 0, 2}, []string{PrefixOrganization, PrefixGroup, PrefixRole}},
	{bucketOrgGroupRoles, bucketRoleOrgGroups, []int{2, 0, 1}, []string{PrefixOrganization, PrefixGroup, PrefixRole}},
	{bucketOrgConnections, bucketConnectionOrgs, []int{1, 0}, []string{PrefixOrganization, PrefixConnection}},
}

// recordBucket is where records of each id prefix live.
var recordBucket = map[string][]byte{
	PrefixUser: bucketUsers, PrefixGroup: bucketGroups, PrefixRole: bucketRoles,
	PrefixOrganization: bucketOrgs, PrefixConnection: bucketConnections,
}

func verifyBindings(r *ReadTx, report func(string, ...any)) {
	split := func(k []byte, n int) []string {
		parts := make([]string, n)
		for i := range n {
			parts[i] = string(k[i*IDLen : (i+1)*IDLen])
		}
		return parts
	}
	for _, b := range bindingIndexes {
		n := len(b.perm)
		count := 0
		r.scanPrefix(b.forward, nil, func(k, _ []byte) bool {
			if len(k) != n*IDLen {
				report("%s key %q has the wrong length", b.forward, k)
				return true
			}
			count++
			parts := split(k, n)
			for i, id := range parts {
				if !r.has(recordBucket[b.kinds[i]], []byte(id)) {
					report("%s %v: %s %s does not exist", b.forward, parts, b.kinds[i], id)
				}
			}
			rev := make([]string, n)
			for i, p := range b.perm {
				rev[i] = parts[p]
			}
			if !r.has(b.reverse, catS(rev...)) {
				report("%s %v has no %s key", b.forward, parts, b.reverse)
			}
			return true
		})
		reverse := 0
		r.scanPrefix(b.reverse, nil, func(_, _ []byte) bool { reverse++; return true })
		if reverse != count {
			report("%s has %d keys but %s has %d", b.forward, count, b.reverse, reverse)
		}
	}
}

// verifySessions checks that every session is indexed under its key, that
// the index holds nothing else, and that a session of a stored key has its
// key (deleting a key deletes its sessions).
func verifySessions(r *ReadTx, report func(string, ...any)) {
	sessions := 0
	r.scanPrefix(bucketSessions, nil, func(k, v []byte) bool {
		sessions++
		var rec sessionRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			report("session %s: %v", k, err)
			return true
		}
		if !r.has(bucketSessionsByKey, sessionByKey(rec.KeyID, rec.ID)) {
			report("session %s is not indexed under its key %s", rec.ID, rec.KeyID)
		}
		if rec.Fingerprint == nil && !r.has(bucketAPIKeys, []byte(rec.KeyID)) {
			report("session %s outlived its API key %s", rec.ID, rec.KeyID)
		}
		return true
	})
	indexed := 0
	r.scanPrefix(bucketSessionsByKey, nil, func([]byte, []byte) bool { indexed++; return true })
	if indexed != sessions {
		report("%d session index keys for %d sessions", indexed, sessions)
	}
}
