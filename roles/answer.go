package roles

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/rolecall/rolecall/store/httpconv"
	"math/bits"
	"slices"
	"strconv"
	"sync"
)

// The index writes its answers as JSON itself: roles, groups and permissions
// keep their encoded forms (jsonHead, jsonSource, json), so an answer is
// appended from them under one read lock with no intermediate values. The
// Management API frames and sends these bytes; what they hold is its
// contract (DESIGN §3).

// Parts is the set of an effective-role answer's parts a caller asked for.
// An answer always names the user (and the organization when one was asked
// for); the rest is left out, and not computed, unless asked.
type Parts uint8

const (
	PartRoles       Parts = 1 << iota // the roles, with scope
	PartSources                       // each role's sources (implies PartRoles)
	PartPermissions                   // the permissions the roles grant
	PartClaims                        // the token-shaped claims block

	AllParts = PartRoles | PartSources | PartPermissions | PartClaims
)

// AppendQueryAnswer appends the login query's answer for subjects:
// {"results":[…],"revision":N}, one result per subject in order (the user,
// the organization when asked, then the parts in want; or the subject's
// error), and returns the revision every result reflects: the batch is
// resolved under one read lock. Only resourceServer's permissions are
// listed when it is not "".
func (ix *Index) AppendQueryAnswer(b []byte, subjects []Subject, resourceServer string, want Parts) ([]byte, uint64) {
	b = append(b, `{"results":[`...)
	rev := ix.resolveBatch(subjects, want&PartSources != 0, func(i int, res Resolution, err error) {
		if i > 0 {
			b = append(b, ',')
		}
		if err != nil {
			b = appendSubjectError(b, subjects[i], err)
			return
		}
		b = ix.appendResult(b, res, resourceServer, want)
	})
	b = append(b, `],"revision":`...)
	b = strconv.AppendUint(b, rev, 10)
	return append(b, '}'), rev
}

// AppendEffectiveAnswer appends one subject's answer in the Management API's
// GET form: {"user_id","active","organization"?, then the parts in want:
// "roles" (with description, and sources when asked), "permissions" (each
// with the ids of the roles granting it), "claims"; and "revision"}. It
// returns the revision the answer reflects, or the subject's *SubjectError
// (b unchanged).
func (ix *Index) AppendEffectiveAnswer(b []byte, s Subject, resourceServer string, want Parts) ([]byte, uint64, error) {
	var err error
	rev := ix.resolveBatch([]Subject{s}, want&PartSources != 0, func(_ int, res Resolution, resErr error) {
		if err = resErr; err != nil {
			return
		}
		b = slices.Grow(b, 512+len(res.Roles)*160)
		b = append(b, `{"user_id":`...)
		b = httpconv.AppendJSONString(b, res.UserID)
		b = append(b, `,"active":`...)
		b = strconv.AppendBool(b, res.Active)
		if res.Organization != nil {
			b = append(b, `,"organization":`...)
			b = appendOrganization(b, res.Organization)
		}
		if want&PartRoles != 0 {
			b = append(b, `,"roles":`...)
			b = appendRoles(b, res.Roles, true, want&PartSources != 0)
		}
		if want&PartPermissions != 0 {
			b = ix.appendPermissionsWithRoles(b, res, resourceServer)
		}
		if want&PartClaims != 0 {
			b = ix.appendPermissionParts(b, res, resourceServer, false, true)
		}
	})
	if err != nil {
		return b, rev, err
	}
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, rev, 10)
	return append(b, '}'), rev, nil
}

// appendPermissionsWithRoles writes ,"permissions":[{resource_server_identifier,
// permission_name, roles}], the GET endpoints' form.
func (ix *Index) appendPermissionsWithRoles(b []byte, res Resolution, resourceServer string) []byte {
	b = append(b, `,"permissions":[`...)
	for i, p := range res.Permissions(resourceServer) {
		if i > 0 {
			b = append(b, ',')
		}
		b = ix.appendDescribedPermission(b, p.Permission)
		b = append(b, `,"roles":[`...)
		for j, id := range p.Roles {
			if j > 0 {
				b = append(b, ',')
			}
			b = httpconv.AppendJSONString(b, id)
		}
		b = append(appendPermissionSources(append(b, ']'), p, res), '}')
	}
	return append(b, ']')
}

// resolveBatch resolves subjects under one read lock and returns the revision
// the answers reflect. Without sources, the roles carry none (see resolve).
func (ix *Index) resolveBatch(subjects []Subject, sources bool, fn func(i int, res Resolution, err error)) uint64 {
	buf := answerPool.Get().(*answerScratch)
	defer answerPool.Put(buf)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for i, s := range subjects {
		u, err := ix.lookup(s)
		var res Resolution
		if err == nil {
			res, err = ix.withDirect(ix.resolve(u, s.OrganizationID, buf, sources))
		}
		fn(i, res, err)
	}
	return ix.revision
}

// answerPool: resolveBatch hands each answer to fn, which encodes it before
// the next, so one set of buffers serves a whole batch.
var answerPool = sync.Pool{New: func() any { return new(answerScratch) }}

// permScratch is a reusable bitset over permission ranks.
var permScratch = sync.Pool{New: func() any { return new([]uint64) }}

// appendResult writes one query result: the user, the organization when
// asked, then the parts in want. It runs under the index's read lock (in
// resolveBatch): permission ranks and the permission table must agree.
func (ix *Index) appendResult(b []byte, res Resolution, resourceServer string, want Parts) []byte {
	b = append(b, `{"user":{"id":`...)
	b = httpconv.AppendJSONString(b, res.UserID)
	b = append(b, `,"connection_id":`...)
	b = httpconv.AppendJSONString(b, res.ConnectionID)
	b = append(b, `,"active":`...)
	b = strconv.AppendBool(b, res.Active)
	b = append(b, '}')
	if res.Organization != nil {
		b = append(b, `,"organization":`...)
		b = appendOrganization(b, res.Organization)
	}
	if want&PartRoles != 0 {
		b = append(b, `,"roles":`...)
		b = appendRoles(b, res.Roles, false, want&PartSources != 0)
	}
	if want&(PartPermissions|PartClaims) != 0 {
		b = ix.appendPermissionParts(b, res, resourceServer, want&PartPermissions != 0, want&PartClaims != 0)
	}
	return append(b, '}')
}

// appendPermissionParts writes ,"permissions":[…] (the lean form, without
// the granting roles) and ,"claims":{"roles","permissions"}, each when
// asked. Permissions are the union of the roles' ranks, in rank (resource
// server, name) order; claims list permission names sorted, each once. It
// runs under the index's read lock.
func (ix *Index) appendPermissionParts(b []byte, res Resolution, resourceServer string, perms, claims bool) []byte {
	// The scratch holds two bitsets: permission ranks, then claim names.
	set := permScratch.Get().(*[]uint64)
	words, claimWords := (len(ix.perms)+63)/64, (len(ix.claims)+63)/64
	if len(*set) < words+claimWords {
		*set = make([]uint64, words+claimWords)
	}
	bitset, claimSet := (*set)[:words], (*set)[words:words+claimWords]
	for _, role := range res.Roles {
		for _, rank := range role.permRanks {
			bitset[rank/64] |= 1 << (rank % 64)
		}
	}
	ix.markDirect(bitset, res)
	if perms {
		b = append(b, `,"permissions":[`...)
	}
	first := true
	for wi, w := range bitset {
		for w != 0 {
			p := &ix.perms[wi*64+bits.TrailingZeros64(w)]
			w &= w - 1
			if resourceServer != "" && p.ResourceServerIdentifier != resourceServer {
				continue
			}
			if perms {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = append(b, p.json...)
			}
			claimSet[p.claimIndex/64] |= 1 << (p.claimIndex % 64)
		}
		bitset[wi] = 0
	}
	if perms {
		b = append(b, ']')
	}
	if claims {
		b = append(b, `,"claims":{"roles":[`...)
		for i, role := range res.Roles {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, role.jsonName...)
		}
		b = append(b, `],"permissions":[`...)
		first = true
		for wi, w := range claimSet {
			for w != 0 {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = append(b, ix.claims[wi*64+bits.TrailingZeros64(w)]...)
				w &= w - 1
			}
		}
		b = append(b, "]}"...)
	}
	clear(claimSet)
	permScratch.Put(set)
	return b
}

func appendOrganization(b []byte, o *OrganizationStatus) []byte {
	b = append(b, `{"id":`...)
	b = httpconv.AppendJSONString(b, o.ID)
	b = append(b, `,"member":`...)
	b = strconv.AppendBool(b, o.Member)
	b = append(b, `,"auto_membership":`...)
	b = strconv.AppendBool(b, o.AutoMembership)
	return append(b, '}')
}

// appendRoles writes roles, with their sources when asked; description is
// included on the Management API's endpoints, left out of the lean login
// answer.
func appendRoles(b []byte, roles []EffectiveRole, withDescription, withSources bool) []byte {
	b = append(b, '[')
	for i, role := range roles {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, role.jsonHead...)
		if withDescription {
			b = append(b, role.jsonDescription...)
		}
		b = append(b, `,"scope":`...)
		b = httpconv.AppendJSONString(b, role.Scope)
		if !withSources {
			b = append(b, '}')
			continue
		}
		b = append(b, `,"sources":[`...)
		for j, s := range role.Sources {
			if j > 0 {
				b = append(b, ',')
			}
			switch {
			case s.Group != nil:
				b = append(b, s.Group.jsonSource...)
			case s.Mapping != nil:
				b = append(b, s.Mapping.jsonSource...)
			case s.Rule != nil:
				b = append(b, s.Rule.jsonSource...)
			default:
				b = append(b, `{"type":"direct"`...)
			}
			b = append(b, `,"scope":"`...)
			b = append(b, s.Scope()...)
			b = append(b, '"')
			if via := s.Via(); len(via) > 0 {
				b = append(b, `,"via":[`...)
				for k, g := range via {
					if k > 0 {
						b = append(b, ',')
					}
					b = append(b, '{')
					b = append(b, g.jsonSource[len(groupSourceHead):]...)
					b = append(b, '}')
				}
				b = append(b, ']')
				if n := s.ViaLength(); n > len(via) { // shortened: see Source.Via
					b = append(b, `,"via_length":`...)
					b = strconv.AppendInt(b, int64(n), 10)
				}
			}
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	return append(b, ']')
}

func appendSubjectError(b []byte, s Subject, err error) []byte {
	code, msg := "invalid_subject", err.Error()
	var se *SubjectError
	if errors.As(err, &se) {
		code = se.Code.Error()
	}
	subject, _ := json.Marshal(s)
	b = append(b, `{"subject":`...)
	b = append(b, bytes.TrimSpace(subject)...)
	b = append(b, `,"error":{"errorCode":`...)
	b = httpconv.AppendJSONString(b, code)
	b = append(b, `,"message":`...)
	b = httpconv.AppendJSONString(b, msg)
	return append(b, "}}"...)
}
