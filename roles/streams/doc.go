// Package streams delivers event streams: every audit entry whose type a
// stream subscribes to is POSTed to the stream's webhook as a CloudEvents 1.0
// JSON event, in audit-log order, at least once.
//
// The audit log is the outbox (it is written in each change's own
// transaction), and each stream keeps a durable cursor into it in the store.
// A Manager runs one goroutine per enabled stream: it reads the log from the
// cursor (store.ReadTx.AuditFeed), skips entries the stream does not
// subscribe to, and delivers one event at a time: a 2xx answer advances the
// cursor; anything else is retried with exponential backoff and full jitter
// (MinBackoff doubling up to MaxBackoff), or after the receiver's
// Retry-After on 429 and 503. An event is never skipped: a stream whose
// receiver keeps failing for DisableAfter is disabled, with the reason, and
// re-enabling it resumes from the cursor. A crash between a delivery and the
// cursor's write sends that event again, with the same id.
//
// Each stream has its own goroutine and its own HTTP attempts (timeouts, a
// bounded read of the answer, no redirects followed), so a slow or dead
// receiver delays only its own stream, and never a write: delivery reads the
// log after commit. It wakes on the role index's revision (which follows
// every node's commits), never by polling.
//
// On a store shared by several nodes, a stream is delivered by the node
// holding its lease in the store (renewed while it delivers, taken over once
// it expires): duplicates can happen only around a takeover.
//
// Every attempt (test events included) is kept for GET …/deliveries in the
// stream's ring in the store (the last DeliveriesKept, whichever node made
// them), so every node lists the same attempts and a restart keeps them. A
// node queues its attempts in memory and writes them every FlushInterval,
// and when it stops, in one write for all its streams: a delivery costs no
// commit of its own, and a node killed loses at most its last interval's
// attempts from the list (never an event).
//
// # No probe of the private network
//
// A key that may create streams or send test events must not make the server
// reach its own network and read the answer back (SSRF). Unless AllowHTTP
// (the server's --allow-http-webhooks, for local receivers) the default
// client checks, when dialling, every address it is about to connect to and
// refuses any that is not globally routable (store.CheckWebhookAddress:
// loopback, private, link-local and cloud metadata, CGNAT, multicast…), so
// a name resolving there, even only at delivery time (DNS rebinding), gets
// nowhere; the refusal is an attempt failed like any other. It uses no
// proxy, whose address the check would otherwise see instead.
//
// # Signatures
//
// Every request carries
//
//	Rolecall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
//
// where secret is the stream's signing secret (shown once, at creation and
// on rotation). A receiver recomputes the HMAC over the timestamp, a dot and
// the raw body, compares it in constant time, and rejects a timestamp more
// than a few minutes old (a replay); Verify does exactly that. The event's
// id (the audit entry id) lets it drop a duplicate.
//
// The package imports store and net/http; it knows nothing of the
// Management API, which calls it for test events and recent deliveries.
package streams
