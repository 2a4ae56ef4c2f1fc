package dashboard

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Event streams: the pages over /api/v2/event-streams. A stream pushes the
// audit events it subscribes to, as signed CloudEvents, to a webhook. The
// pages list the streams, create one (its signing secret shown on that one
// answer, as a new SCIM token is), and on a stream's page enable or disable
// it, send a test event and show how the receiver answered, rotate the
// secret (shown once again), delete it, and list this node's recent
// delivery attempts. The bearer token the stream presents to its receiver
// is write-only: the API never returns it, and the dashboard never puts
// what was typed into it back into a page or a flash.

// tokenField is the create form's bearer token field. It is dropped from
// a refused form's values (formValues), so it never travels in the flash
// cookie or comes back in the page.
const tokenField = "webhook_token"

// eventStream is an event stream as the API describes it.
type eventStream struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Subscriptions []struct {
		EventType string `json:"event_type"`
	} `json:"subscriptions"`
	Destination struct {
		Type          string `json:"type"`
		Configuration struct {
			WebhookEndpoint      string `json:"webhook_endpoint"`
			WebhookAuthorization *struct {
				Method string `json:"method"`
			} `json:"webhook_authorization"`
		} `json:"configuration"`
	} `json:"destination"`
	Status       string    `json:"status"`
	StatusReason string    `json:"status_reason"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// SigningSecret is only in the answers of the create and rotate-secret.
	SigningSecret string `json:"signing_secret"`
}

// Endpoint is the webhook URL the stream posts to.
func (e eventStream) Endpoint() string { return e.Destination.Configuration.WebhookEndpoint }

// Bearer reports whether the stream presents a bearer token.
func (e eventStream) Bearer() bool { return e.Destination.Configuration.WebhookAuthorization != nil }

// Enabled reports whether the stream delivers.
func (e eventStream) Enabled() bool { return e.Status == "enabled" }

// Types are the event types the stream subscribes to.
func (e eventStream) Types() []string {
	out := make([]string, 0, len(e.Subscriptions))
	for _, s := range e.Subscriptions {
		out = append(out, s.EventType)
	}
	return out
}

// delivery is one delivery attempt as GET …/deliveries and POST …/test
// describe it.
type delivery struct {
	Time       time.Time `json:"time"`
	EventID    string    `json:"event_id"`
	EventType  string    `json:"event_type"`
	Attempt    int       `json:"attempt"`
	StatusCode int       `json:"status_code"`
	LatencyMS  float64   `json:"latency_ms"`
	OK         bool      `json:"ok"`
	Error      string    `json:"error"`
	Node       string    `json:"node"` // the server that made the attempt
}

// Latency is the attempt's latency for people: "12 ms", "1.2 s".
func (a delivery) Latency() string {
	switch {
	case a.LatencyMS >= 1000:
		return fmt.Sprintf("%.1f s", a.LatencyMS/1000)
	case a.LatencyMS < 1:
		return "under 1 ms"
	}
	return fmt.Sprintf("%.0f ms", a.LatencyMS)
}

// outcome says how the receiver answered an attempt, in a sentence's end.
func (a delivery) outcome() string {
	if a.Error == fmt.Sprintf("HTTP %d", a.StatusCode) {
		a.Error = "" // the deliverer's error only restates the status
	}
	switch {
	case a.StatusCode != 0 && a.Error != "":
		return fmt.Sprintf("the receiver answered HTTP %d in %s: %s", a.StatusCode, a.Latency(), a.Error)
	case a.StatusCode != 0:
		return fmt.Sprintf("the receiver answered HTTP %d in %s", a.StatusCode, a.Latency())
	case a.Error != "":
		return fmt.Sprintf("no answer after %s: %s", a.Latency(), a.Error)
	}
	return "no answer after " + a.Latency()
}

type eventStreamsPage struct {
	Streams []eventStream
	Max     int // how many streams may exist
}

// maxEventStreams is the store's bound on streams, which the page states
// (the API refuses the one too many with its own message).
const maxEventStreams = 20

func (d *Dashboard) eventStreamRoutes() {
	d.handle("GET", "/event-streams", d.eventStreams)
	d.handle("POST", "/event-streams", d.createEventStream)
	d.handle("GET", "/event-streams/{id}", d.eventStream)
	d.handle("POST", "/event-streams/{id}/status", d.setEventStreamStatus)
	d.handle("POST", "/event-streams/{id}/test", d.testEventStream)
	d.handle("POST", "/event-streams/{id}/rotate-secret", d.rotateEventStreamSecret)
	d.handle("POST", "/event-streams/{id}/delete", d.deleteEventStream)
}

// eventStreams lists the streams, with the create form.
func (d *Dashboard) eventStreams(w http.ResponseWriter, r *http.Request, s *session) error {
	var list struct {
		EventStreams []eventStream `json:"event_streams"`
	}
	if err := d.call(r, s, "GET", "/event-streams", nil, &list); err != nil {
		return err
	}
	p := eventStreamsPage{Streams: list.EventStreams, Max: maxEventStreams}
	d.render(w, r, s, http.StatusOK, "event_streams", pageData{Title: "Event streams", Section: "event-streams", Data: p})
	return nil
}

type eventStreamSecretPage struct {
	Stream  eventStream
	Rotated bool // a rotation, not a create
}

// createEventStream creates a stream and shows its signing secret on this
// one answer (never stored, never redirected to, never cached).
func (d *Dashboard) createEventStream(w http.ResponseWriter, r *http.Request, s *session) error {
	back := d.path("/event-streams")
	_ = r.ParseForm() // a body that does not parse has no field: the API's 400
	token := r.PostFormValue(tokenField)
	r.PostForm.Del(tokenField)
	subs := []map[string]string{}
	for _, t := range r.PostForm["subscriptions"] {
		subs = append(subs, map[string]string{"event_type": t})
	}
	conf := map[string]any{"webhook_endpoint": strings.TrimSpace(r.PostFormValue("endpoint"))}
	if token != "" {
		conf["webhook_authorization"] = map[string]any{"method": "bearer", "token": token}
	}
	body := map[string]any{
		"name":          strings.TrimSpace(r.PostFormValue("name")),
		"subscriptions": subs,
		"destination":   map[string]any{"type": "webhook", "configuration": conf},
	}
	var es eventStream
	if err := d.call(r, s, "POST", "/event-streams", body, &es); err != nil {
		return d.done(w, r, s, back, err, "")
	}
	d.render(w, r, s, http.StatusCreated, "event_stream_secret", pageData{Title: "New event stream", Section: "event-streams", Data: eventStreamSecretPage{Stream: es}})
	return nil
}

// streamStats are a stream's counters as GET …/deliveries answers them.
type streamStats struct {
	Delivered  uint64  `json:"delivered"`
	Failed     uint64  `json:"failed"`
	LagEvents  uint64  `json:"lag_events"`
	LagSeconds float64 `json:"lag_seconds"`
	Delivering bool    `json:"delivering"`
}

type eventStreamPage struct {
	Stream        eventStream
	Deliveries    []delivery
	Stats         *streamStats // this server's counters; nil while delivery is off
	DeliveriesErr error        // the attempts could not be read (shown in their place)
	// The questions the rotate and delete forms ask first.
	RotateQuestion, DeleteQuestion string
}

// eventStream is a stream's page: what it sends where, its actions, and
// the recent attempts.
func (d *Dashboard) eventStream(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	var p eventStreamPage
	if err := d.call(r, s, "GET", "/event-streams/"+seg(id), nil, &p.Stream); err != nil {
		return err
	}
	var list struct {
		Deliveries []delivery   `json:"deliveries"`
		Stats      *streamStats `json:"stats"`
	}
	if err := d.call(r, s, "GET", "/event-streams/"+seg(id)+"/deliveries", nil, &list); err != nil {
		if isSessionEnd(err) {
			return err
		}
		p.DeliveriesErr = err
	}
	p.Deliveries, p.Stats = list.Deliveries, list.Stats
	p.RotateQuestion, p.DeleteQuestion = rotateQuestion(p.Stream.Name), deleteStreamQuestion(p.Stream.Name)
	d.render(w, r, s, http.StatusOK, "event_stream", pageData{Title: p.Stream.Name, Section: "event-streams", Data: p})
	return nil
}

// setEventStreamStatus enables or disables a stream. Disabling keeps its
// place in the log; enabling resumes from there, so nothing is skipped.
func (d *Dashboard) setEventStreamStatus(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	back := d.path("/event-streams/" + seg(id))
	name := r.PostFormValue("name")
	var ok string
	switch status := r.PostFormValue("status"); status {
	case "enabled":
		ok = "Event stream " + name + " is enabled: it delivers again, from the first event it has not delivered."
	case "disabled":
		ok = "Event stream " + name + " is disabled: it delivers nothing until it is enabled again, and then resumes where it stopped."
	default:
		return d.done(w, r, s, back, &APIError{StatusCode: http.StatusBadRequest, Title: "Bad Request",
			Message: "Choose whether to enable or disable the stream.", ErrorCode: "invalid_body"}, "")
	}
	err := d.call(r, s, "PATCH", "/event-streams/"+seg(id), map[string]any{"status": r.PostFormValue("status")}, nil)
	return d.done(w, r, s, back, err, ok)
}

// testEventStream sends a test event now and shows how the receiver
// answered: a success as the outcome, a failure as an error.
func (d *Dashboard) testEventStream(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	back := d.path("/event-streams/" + seg(id))
	var a delivery
	if err := d.call(r, s, "POST", "/event-streams/"+seg(id)+"/test", map[string]any{}, &a); err != nil {
		return d.done(w, r, s, back, err, "")
	}
	if !a.OK {
		// StatusCode 0: the receiver's status is in the message, and must
		// not read as the API's (a receiver's 401 ends no session).
		return d.done(w, r, s, back, &APIError{Title: "Test event not delivered",
			Message: "Test event " + a.EventID + " failed: " + a.outcome() + ".", ErrorCode: "delivery_failed"}, "")
	}
	return d.done(w, r, s, back, nil, "Test event "+a.EventID+" delivered: "+a.outcome()+".")
}

// rotateEventStreamSecret replaces the signing secret, after confirmation,
// and shows the new one on this one answer.
func (d *Dashboard) rotateEventStreamSecret(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	back := d.path("/event-streams/" + seg(id))
	if d.needConfirm(w, r, s, rotateQuestion(r.PostFormValue("name")), back) {
		return nil
	}
	var es eventStream
	if err := d.call(r, s, "POST", "/event-streams/"+seg(id)+"/rotate-secret", map[string]any{}, &es); err != nil {
		return d.done(w, r, s, back, err, "")
	}
	d.render(w, r, s, http.StatusOK, "event_stream_secret", pageData{Title: "New signing secret", Section: "event-streams",
		Data: eventStreamSecretPage{Stream: es, Rotated: true}})
	return nil
}

// deleteEventStream deletes a stream, after confirmation.
func (d *Dashboard) deleteEventStream(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	back := d.path("/event-streams/" + seg(id))
	name := r.PostFormValue("name")
	if d.needConfirm(w, r, s, deleteStreamQuestion(name), back) {
		return nil
	}
	if err := d.call(r, s, "DELETE", "/event-streams/"+seg(id), nil, nil); err != nil {
		return d.done(w, r, s, back, err, "")
	}
	return d.done(w, r, s, d.path("/event-streams"), nil, "Event stream "+name+" deleted.")
}

// The confirmation questions; the page's script asks the same in its
// dialog.
func rotateQuestion(name string) string {
	return "Rotate the signing secret of " + name + "? The old secret stops signing at once: the receiver rejects every event until it has the new one."
}

func deleteStreamQuestion(name string) string {
	return "Delete event stream " + name + "? It stops delivering at once, and the events it has not delivered are never sent. This cannot be undone."
}
