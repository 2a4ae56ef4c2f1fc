package store

import (
	"encoding/json"
	"testing"
	"time"
)

// The audit log is written with a hand-rolled encoder for speed; it must say
// what encoding/json's encoding decodes to, for any string a client can send
// (the bytes may differ: see httpconv.AppendJSONString).
func TestAuditEncodingMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tnewline\ncr\r", "\x00\x01\x1f",
		"ünïcödé ✓ 😀", "bad utf8 \xff\xfe end", "</script>&", "\u2028\u2029",
	} {
		e := AuditEntry{
			ID: "42", Date: time.Date(2026, 11, 28, 13, 0, 0, 123456789, time.UTC), Type: "group.member.added",
			Actor: Actor{Type: ActorSCIMToken, ID: s}, Channel: ChannelSCIM, Target: Target{Type: "group", ID: s},
			After: rawJSON(Member{ID: s, Type: MemberUser, Display: s}), RequestID: s, Revision: 7,
		}
		var fromFast, fromStd AuditEntry
		if err := json.Unmarshal(e.appendJSON(nil), &fromFast); err != nil {
			t.Fatalf("%q: hand-encoded entry does not decode: %v\n%s", s, err, e.appendJSON(nil))
		}
		std, _ := json.Marshal(e)
		if err := json.Unmarshal(std, &fromStd); err != nil {
			t.Fatal(err)
		}
		fast, _ := json.Marshal(fromFast)
		slow, _ := json.Marshal(fromStd)
		if string(fast) != string(slow) {
			t.Errorf("%q:\n hand: %s\n json: %s", s, fast, slow)
		}
		var fastMember, stdMember Member
		stdRaw, _ := json.Marshal(Member{ID: s, Type: MemberUser, Display: s})
		if err := json.Unmarshal(fromFast.After, &fastMember); err != nil {
			t.Fatalf("%q: hand-encoded member does not decode: %v", s, err)
		}
		_ = json.Unmarshal(stdRaw, &stdMember)
		if fastMember != stdMember {
			t.Errorf("%q: member %+v, encoding/json says %+v", s, fastMember, stdMember)
		}
	}
}

// A run's record says its length before its items, and the length is read
// without decoding them; records written before that, and single entries,
// are still counted right, whatever their items hold.
func TestAuditRecordLen(t *testing.T) {
	head := AuditEntry{ID: "9", Type: "group.member.added", Channel: ChannelSCIM, Target: Target{Type: "group", ID: `grp ,"n":3,"items":[`}, Revision: 2}
	tricky := rawJSON(map[string]any{"n": 5, "items": []int{1}, "s": `,"n":7,"items":[`})
	run := auditRun{head: head, items: []auditItem{{After: tricky}, {After: tricky}, {Before: tricky}, {After: rawJSON("x")}}}
	written := run.appendJSON(nil)
	var rec auditRecord
	if err := json.Unmarshal(written, &rec); err != nil || len(rec.Items) != 4 {
		t.Fatalf("the record does not decode to its 4 items: %v\n%s", err, written)
	}
	// The same record as written before the length was stored.
	old, _ := json.Marshal(auditRecord{AuditEntry: head, Items: run.items})
	single := auditRun{head: head, items: []auditItem{{After: tricky}}}
	for _, tc := range []struct {
		name string
		raw  []byte
		want int
	}{
		{"run", written, 4},
		{"run written before the length", old, 4},
		{"single entry", single.appendJSON(nil), 1},
	} {
		if got := auditRecordLen(tc.raw); got != tc.want {
			t.Errorf("%s: %d entries, want %d", tc.name, got, tc.want)
		}
	}
}
