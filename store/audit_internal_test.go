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
