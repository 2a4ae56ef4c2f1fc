package streams

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/rolecall/rolecall/store"
)

// CloudEvent is one audit entry as a CloudEvents 1.0 JSON event: what the
// change feed (GET /api/v2/events) lists and what a stream POSTs.
type CloudEvent struct {
	SpecVersion     string           `json:"specversion"`
	ID              string           `json:"id"`
	Type            string           `json:"type"`
	Source          string           `json:"source"`
	Time            time.Time        `json:"time"`
	DataContentType string           `json:"datacontenttype"`
	Data            store.AuditEntry `json:"data"`
}

// NewCloudEvent renders an audit entry: id the entry id, type its type,
// time its date, data the entry itself.
func NewCloudEvent(source string, e store.AuditEntry) CloudEvent {
	return CloudEvent{SpecVersion: "1.0", ID: e.ID, Type: e.Type, Source: source, Time: e.Date,
		DataContentType: "application/json", Data: e}
}

// SignatureHeader is the header that carries a delivery's signature.
const SignatureHeader = "Rolecall-Signature"

// ContentType is the media type of a delivery's body (structured mode).
const ContentType = "application/cloudevents+json"

// Sign returns the SignatureHeader value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Signature verification errors.
var (
	ErrBadSignature   = errors.New("streams: the signature does not match the body")
	ErrStaleSignature = errors.New("streams: the signature's timestamp is outside the tolerance (a replay?)")
)

// Verify checks a SignatureHeader value against body as a receiver would:
// the timestamp within tolerance of now, and some v1 HMAC equal (in
// constant time) to the one secret gives.
func Verify(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStaleSignature
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return ErrBadSignature
}
