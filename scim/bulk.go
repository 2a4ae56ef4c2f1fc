package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/rolecall/rolecall/store/httpconv"
)

const (
	bulkRequestSchema  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	bulkResponseSchema = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	bulkIDPrefix       = "bulkId:"
)

// bulkOperation is one operation of a BulkRequest (RFC 7644 §3.7).
type bulkOperation struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId"`
	Version string          `json:"version"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data"`
}

// bulkResult is one operation of a BulkResponse.
type bulkResult struct {
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Location string          `json:"location,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
}

// bulk serves POST /Bulk (RFC 7644 §3.7).
//
// Each operation is served exactly as the single request it stands for
// would be: the same route, method and scope checks (a token needs the scope
// of every operation's resource and method), validation, store write, audit
// entries and answer, which becomes the operation's status, location,
// version and, for failures, response. Each operation is its own atomic,
// durable write; the bulk request as a whole is not atomic (RFC 7644 does
// not ask it to be): an operation that fails leaves the others applied, and
// failOnErrors stops processing after that many failures, leaving the
// operations not yet processed unapplied and unreported.
//
// bulkId references ("bulkId:qwerty", anywhere in an operation's data or as
// a path segment) are replaced with the id the POST of that bulkId created.
// Operations run in request order, except that one referring to a bulkId not
// created yet waits until it is; references that can never be resolved
// (circular ones, or to a POST that failed) fail with 409, as §3.7.1 allows,
// and references to a bulkId no operation defines with 400 invalidValue.
//
// The request itself is checked first, and rejected whole, changing
// nothing: a body above maxPayloadSize or more than maxOperations operations
// answer 413 (§3.7.4); a body that is not a BulkRequest, or repeats a
// bulkId, 400.
func (h *Handler) bulk(w http.ResponseWriter, r *http.Request, body []byte) {
	st := stateOf(r)
	req, err := h.parseBulk(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	b := bulkRun{h: h, r: r, ops: req.ops, creates: req.creates, created: map[string]string{}, failed: map[string]bool{}}
	b.run(req.failOnErrors)
	if st.revision == 0 {
		// Nothing committed: the answer still reflects the store as read.
		st.revision = h.db.Revision()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":    []string{bulkResponseSchema},
		"Operations": b.results,
	})
}

// bulkRequest is a BulkRequest that passed the checks of the whole request.
type bulkRequest struct {
	ops          []bulkOperation
	creates      map[string]int // bulkId → index of the POST that defines it
	failOnErrors int            // 0: no limit
}

// parseBulk decodes and checks a BulkRequest as a whole: its size, schema,
// number of operations, failOnErrors, and that no bulkId is created twice.
func (h *Handler) parseBulk(body []byte) (bulkRequest, error) {
	if len(body) > h.bulkMaxPayload {
		return bulkRequest{}, scimErr(http.StatusRequestEntityTooLarge, "", "The size of the bulk operation exceeds the maxPayloadSize (%d bytes).", h.bulkMaxPayload)
	}
	var req struct {
		Schemas      []string          `json:"schemas"`
		FailOnErrors *int              `json:"failOnErrors"`
		Operations   []json.RawMessage `json:"Operations"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return bulkRequest{}, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The body is not a valid BulkRequest: %v.", err)
	}
	found := false
	for _, s := range req.Schemas {
		found = found || strings.EqualFold(s, bulkRequestSchema)
	}
	switch {
	case !found:
		return bulkRequest{}, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The body must list %q in \"schemas\".", bulkRequestSchema)
	case len(req.Operations) == 0:
		return bulkRequest{}, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The BulkRequest must have at least one operation in \"Operations\".")
	case len(req.Operations) > h.bulkMaxOps:
		return bulkRequest{}, scimErr(http.StatusRequestEntityTooLarge, "", "The number of operations (%d) exceeds the maxOperations (%d).", len(req.Operations), h.bulkMaxOps)
	case req.FailOnErrors != nil && *req.FailOnErrors < 1:
		return bulkRequest{}, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "failOnErrors must be a positive integer, not %d.", *req.FailOnErrors)
	}
	out := bulkRequest{ops: make([]bulkOperation, len(req.Operations)), creates: map[string]int{}}
	for i, raw := range req.Operations {
		if err := json.Unmarshal(raw, &out.ops[i]); err != nil {
			return bulkRequest{}, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "Operations[%d] is not a bulk operation object: %v.", i, err)
		}
		if id := out.ops[i].BulkID; id != "" && strings.EqualFold(out.ops[i].Method, http.MethodPost) {
			if j, dup := out.creates[id]; dup {
				return bulkRequest{}, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "Operations[%d] and Operations[%d] both create bulkId %q; bulkIds must be unique.", j, i, id)
			}
			out.creates[id] = i
		}
	}
	if req.FailOnErrors != nil {
		out.failOnErrors = *req.FailOnErrors
	}
	return out, nil
}

// bulkRun is the state of one bulk request being processed.
type bulkRun struct {
	h       *Handler
	r       *http.Request
	ops     []bulkOperation
	creates map[string]int    // bulkId → index of the POST defining it
	created map[string]string // bulkId → id of the resource its POST created
	failed  map[string]bool   // bulkIds whose POST failed
	refs    [][]string        // the distinct bulkIds each operation refers to
	results []bulkResult
	errors  int
}

// run processes the operations in order, deferring those that refer to a
// bulkId not created yet, until all are done or failOnErrors (0: no limit)
// operations have failed.
//
// The order is that of passes over the waiting operations in request
// order, each operation running in the first pass that finds its
// references decided (all created, or one failed or unknown), and
// operations still waiting when a pass decides nothing failing as circular.
// Rather than making the passes, which costs O(n²) when references run
// backwards, run computes when each operation's last reference is decided:
// an operation decided by one before it in the request runs in that one's
// pass, by one after it in the next pass. A heap of (pass, index) replays
// that order in O(n log n) over the references, each decoded once.
func (b *bulkRun) run(failOnErrors int) {
	b.refs = make([][]string, len(b.ops))
	waiters := map[string][]int{} // bulkId → operations referring to it
	undecided := make([]int, len(b.ops))
	queued := make([]bool, len(b.ops))
	var ready bulkQueue
	for i := range b.ops {
		b.refs[i] = distinct(b.references(i))
		unknown := false
		for _, ref := range b.refs[i] {
			_, defined := b.creates[ref]
			unknown = unknown || !defined
			waiters[ref] = append(waiters[ref], i)
		}
		undecided[i] = len(b.refs[i])
		if unknown || undecided[i] == 0 {
			ready.push(bulkTurn{pass: 0, index: i})
			queued[i] = true
		}
	}
	stop := func() bool { return failOnErrors > 0 && b.errors >= failOnErrors }
	for ready.Len() > 0 {
		if stop() {
			return
		}
		turn := ready.pop()
		i := turn.index
		if _, err := b.resolvable(i); err != nil {
			b.record(i, b.failure(i, err))
		} else {
			b.record(i, b.execute(i))
		}
		id := b.ops[i].BulkID
		if j, defines := b.creates[id]; !defines || j != i {
			continue
		}
		_, created := b.created[id]
		if !created && !b.failed[id] {
			continue // created nothing to refer to: its waiters never run
		}
		for _, w := range waiters[id] {
			undecided[w]--
			if queued[w] || created && undecided[w] > 0 {
				continue
			}
			pass := turn.pass
			if w < i {
				pass++ // the next pass reaches it
			}
			ready.push(bulkTurn{pass: pass, index: w})
			queued[w] = true
		}
	}
	// Everything left waits for something that waits too.
	for i := range b.ops {
		if queued[i] {
			continue
		}
		if stop() {
			return
		}
		b.record(i, b.failure(i, scimErr(http.StatusConflict, "",
			"The operation's bulkId references are circular (or depend on circular ones) and cannot be resolved; create the resources first and reference them in a later request or operation.")))
	}
}

// distinct removes repeated strings, keeping the first of each.
func distinct(s []string) []string {
	if len(s) < 2 {
		return s
	}
	seen := make(map[string]bool, len(s))
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// bulkTurn is when an operation runs: its pass, then its place in the
// request.
type bulkTurn struct{ pass, index int }

// bulkQueue is a min-heap of turns.
type bulkQueue []bulkTurn

func (q bulkQueue) Len() int { return len(q) }

func (q bulkQueue) less(a, b int) bool {
	return q[a].pass < q[b].pass || q[a].pass == q[b].pass && q[a].index < q[b].index
}

func (q *bulkQueue) push(t bulkTurn) {
	*q = append(*q, t)
	for c := len(*q) - 1; c > 0; {
		p := (c - 1) / 2
		if !q.less(c, p) {
			break
		}
		(*q)[c], (*q)[p] = (*q)[p], (*q)[c]
		c = p
	}
}

func (q *bulkQueue) pop() bulkTurn {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for p := 0; ; {
		c := 2*p + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && h.less(c+1, c) {
			c++
		}
		if !h.less(c, p) {
			break
		}
		h[c], h[p] = h[p], h[c]
		p = c
	}
	*q = h
	return top
}

// resolvable reports whether every bulkId operation i refers to has been
// created; an error when one never will be.
func (b *bulkRun) resolvable(i int) (bool, error) {
	ready := true
	for _, ref := range b.refs[i] {
		if _, ok := b.creates[ref]; !ok {
			return false, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "bulkId:%s names no POST operation of this request.", ref)
		}
		if b.failed[ref] {
			return false, scimErr(http.StatusConflict, "", "bulkId:%s cannot be resolved: the operation that creates it failed.", ref)
		}
		if _, ok := b.created[ref]; !ok {
			ready = false
		}
	}
	return ready, nil
}

// references lists the bulkIds operation i refers to, in its path and data.
func (b *bulkRun) references(i int) []string {
	op := b.ops[i]
	var refs []string
	for _, seg := range strings.Split(op.Path, "/") {
		if ref, ok := strings.CutPrefix(seg, bulkIDPrefix); ok {
			refs = append(refs, ref)
		}
	}
	if !bytes.Contains(op.Data, []byte(bulkIDPrefix)) {
		return refs
	}
	var data any
	if decodeValue(op.Data, &data) != nil {
		return refs // execute reports the bad data as the single request would
	}
	walkStrings(data, func(s string) string {
		if ref, ok := strings.CutPrefix(s, bulkIDPrefix); ok {
			refs = append(refs, ref)
		}
		return s
	})
	return refs
}

// walkStrings replaces every string value (not key) in a decoded JSON value
// with fn's result, in place, and returns the value.
func walkStrings(v any, fn func(string) string) any {
	switch x := v.(type) {
	case string:
		return fn(x)
	case []any:
		for i, e := range x {
			x[i] = walkStrings(e, fn)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = walkStrings(e, fn)
		}
	}
	return v
}

// record keeps an operation's result and its effect on later operations.
func (b *bulkRun) record(i int, res bulkResult) {
	op := b.ops[i]
	failed := !strings.HasPrefix(res.Status, "2")
	if failed {
		b.errors++
	}
	if _, defines := b.creates[op.BulkID]; defines && b.creates[op.BulkID] == i {
		if failed {
			b.failed[op.BulkID] = true
		} else if id := res.Location[strings.LastIndexByte(res.Location, '/')+1:]; id != "" {
			b.created[op.BulkID] = id
		}
	}
	b.results = append(b.results, res)
}

// failure is the result of an operation that was not executed.
func (b *bulkRun) failure(i int, err error) bulkResult {
	op := b.ops[i]
	se := scimError(b.r, err)
	return bulkResult{Method: strings.ToUpper(op.Method), BulkID: op.BulkID, Status: strconv.Itoa(se.Status), Response: mustJSON(se)}
}

// execute serves operation i as the single request it stands for.
func (b *bulkRun) execute(i int) bulkResult {
	op := b.ops[i]
	method := strings.ToUpper(op.Method)
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return b.failure(i, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "Operations[%d] has method %q; bulk operations are POST, PUT, PATCH or DELETE.", i, op.Method))
	}
	if method == http.MethodPost && op.BulkID == "" {
		return b.failure(i, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "Operations[%d] is a POST without a bulkId; RFC 7644 §3.7 requires one.", i))
	}
	path, data := b.resolve(op)
	if strings.ContainsAny(path, "?#") {
		return b.failure(i, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "Operations[%d] has path %q; a bulk operation's path is a resource endpoint such as /Users or /Groups/{id}, without a query.", i, op.Path))
	}
	rt := b.h.parseRoute(path)
	if rt.endpoint != endpointResources && rt.endpoint != endpointResource {
		return b.failure(i, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "Operations[%d] has path %q; bulk operations address %s or one of their resources.", i, op.Path, strings.Join(b.h.endpoints(), ", ")))
	}

	parent := stateOf(b.r)
	st := &request{connectionID: parent.connectionID, token: parent.token, baseURL: parent.baseURL}
	r := withState(b.r, st)
	r.Method = method
	r.URL = &url.URL{Path: PathPrefix + parent.connectionID + path}
	r.Header = b.r.Header.Clone()
	r.Header.Del("If-None-Match")
	r.Header.Del("If-Match")
	if op.Version != "" {
		r.Header.Set("If-Match", op.Version)
	}
	r.Body, r.ContentLength = http.NoBody, int64(len(data))

	location := ""
	if rt.endpoint == endpointResource {
		location = parent.baseURL + rt.res.endpoint + "/" + rt.id
	}
	rec := &httpconv.Recorder{}
	if err := b.h.authorize(method, rt, parent.token); err != nil {
		writeError(rec, r, err)
	} else {
		b.h.dispatch(rec, r, rt, data)
	}
	parent.revision = max(parent.revision, st.revision)

	res := bulkResult{Method: method, BulkID: op.BulkID, Status: strconv.Itoa(rec.Status()), Location: location}
	if rec.Status() < 300 {
		res.Version = rec.Header().Get("ETag")
		if l := rec.Header().Get("Location"); l != "" {
			res.Location = l
		}
	} else {
		res.Response = json.RawMessage(rec.Body())
	}
	return res
}

// resolve replaces the bulkId references in an operation's path and data
// with the ids their POSTs created.
func (b *bulkRun) resolve(op bulkOperation) (path string, data []byte) {
	opPath := op.Path
	if !strings.HasPrefix(opPath, "/") {
		opPath = "/" + opPath // "Users" for "/Users"
	}
	segments := strings.Split(opPath, "/")
	for j, seg := range segments {
		if ref, ok := strings.CutPrefix(seg, bulkIDPrefix); ok {
			segments[j] = url.PathEscape(b.created[ref])
		}
	}
	path = strings.Join(segments, "/")
	data = []byte(op.Data)
	if bytes.Contains(data, []byte(bulkIDPrefix)) {
		var v any
		if decodeValue(data, &v) == nil {
			data = mustJSON(walkStrings(v, func(s string) string {
				if ref, ok := strings.CutPrefix(s, bulkIDPrefix); ok {
					return b.created[ref]
				}
				return s
			}))
		}
	}
	return path, data
}
