package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/rolecall/rolecall/roles/streams"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
)

// Event streams (Auth0's shape): POST/GET/PATCH/DELETE /event-streams, a
// test event, recent deliveries, and secret rotation. The bearer token a
// stream presents to its receiver is never returned; the signing secret is
// returned once, by the create and by rotate-secret. Delivery itself is the
// Streams deliverer's (package roles/streams), which the composition root
// runs.

// StreamDeliverer is what the API needs of the deliverer: a test event now,
// the recent attempts (the store's and this node's unwritten ones), and this
// node's counters. *streams.Manager implements it.
type StreamDeliverer interface {
	Test(ctx context.Context, id string) (streams.Attempt, error)
	Deliveries(id string) ([]streams.Attempt, error)
	StreamStats(id string) streams.Stats
}

type streamSubscription struct {
	EventType string `json:"event_type"`
}

type streamAuthorization struct {
	Method string  `json:"method"`
	Token  *string `json:"token,omitempty"` // in requests only
}

type streamConfiguration struct {
	WebhookEndpoint      *string              `json:"webhook_endpoint,omitempty"`
	WebhookAuthorization *streamAuthorization `json:"webhook_authorization,omitempty"`
}

type streamDestination struct {
	Type          string              `json:"type"`
	Configuration streamConfiguration `json:"configuration"`
}

type eventStreamView struct {
	ID            string               `json:"id"`
	Name          string               `json:"name"`
	Subscriptions []streamSubscription `json:"subscriptions"`
	Destination   streamDestination    `json:"destination"`
	Status        string               `json:"status"`
	StatusReason  string               `json:"status_reason,omitempty"`
	CreatedAt     time.Time            `json:"created_at"`
	UpdatedAt     time.Time            `json:"updated_at"`
	// SigningSecret is only in the answers of the create and rotate-secret.
	SigningSecret string `json:"signing_secret,omitempty"`
}

func viewEventStream(s store.EventStream) eventStreamView {
	v := eventStreamView{ID: s.ID, Name: s.Name, Subscriptions: []streamSubscription{}, Status: s.Status, StatusReason: s.StatusReason,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	for _, t := range s.Subscriptions {
		v.Subscriptions = append(v.Subscriptions, streamSubscription{t})
	}
	ep := s.Endpoint
	v.Destination = streamDestination{Type: "webhook", Configuration: streamConfiguration{WebhookEndpoint: &ep}}
	if s.AuthMethod != "" {
		v.Destination.Configuration.WebhookAuthorization = &streamAuthorization{Method: s.AuthMethod}
	}
	return v
}

// eventStreamBody is a create or PATCH body.
type eventStreamBody struct {
	Name          *string              `json:"name"`
	Subscriptions []streamSubscription `json:"subscriptions"`
	Destination   *streamDestination   `json:"destination"`
	Status        *string              `json:"status"`
}

// spec checks the body and turns it into a store spec. http:// endpoints,
// and endpoints whose host is an IP literal that is not globally routable
// (loopback, private, cloud metadata…), pass only when the server allows
// them (--allow-http-webhooks); names are checked when dialled.
func (a *API) streamSpec(body eventStreamBody) (store.EventStreamSpec, error) {
	spec := store.EventStreamSpec{Name: body.Name, Status: body.Status}
	if body.Subscriptions != nil {
		spec.Subscriptions = []string{}
		for _, s := range body.Subscriptions {
			spec.Subscriptions = append(spec.Subscriptions, s.EventType)
		}
	}
	if d := body.Destination; d != nil {
		if d.Type != "webhook" {
			return spec, badBody("Payload validation error: destination.type must be \"webhook\"")
		}
		if ep := d.Configuration.WebhookEndpoint; ep != nil {
			if err := store.ValidateEventStreamEndpoint(*ep, a.allowHTTPWebhooks); err != nil {
				return spec, err
			}
			spec.Endpoint = ep
		}
		if auth := d.Configuration.WebhookAuthorization; auth != nil {
			if auth.Method != "bearer" {
				return spec, badBody("Payload validation error: webhook_authorization.method must be \"bearer\"")
			}
			if auth.Token == nil || *auth.Token == "" {
				return spec, badBody("Payload validation error: webhook_authorization.token is required with method \"bearer\"")
			}
			spec.Token = auth.Token
		}
	}
	return spec, nil
}

func (a *API) createEventStream(w http.ResponseWriter, r *http.Request, c caller) error {
	var body eventStreamBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.Destination == nil || body.Destination.Configuration.WebhookEndpoint == nil {
		return badBody("Payload validation error: destination.configuration.webhook_endpoint is required")
	}
	spec, err := a.streamSpec(body)
	if err != nil {
		return err
	}
	var view eventStreamView
	err = a.update(w, r, c, func(tx *store.Tx) error {
		s, secret, err := tx.CreateEventStream(spec)
		view = viewEventStream(s)
		view.SigningSecret = secret
		return err
	})
	if err != nil {
		return err
	}
	writeSecret(w, http.StatusCreated, view)
	return nil
}

func (a *API) listEventStreams(w http.ResponseWriter, _ *http.Request, _ caller) error {
	return listAll(a, w, "event_streams", (*store.ReadTx).EventStreams, viewEventStream)
}

func (a *API) getEventStream(w http.ResponseWriter, r *http.Request, _ caller) error {
	var s store.EventStream
	if err := a.view(w, func(tx *store.ReadTx) (err error) { s, err = tx.EventStream(r.PathValue("id")); return err }); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewEventStream(s))
	return nil
}

func (a *API) updateEventStream(w http.ResponseWriter, r *http.Request, c caller) error {
	var body eventStreamBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	spec, err := a.streamSpec(body)
	if err != nil {
		return err
	}
	var s store.EventStream
	if err := a.update(w, r, c, func(tx *store.Tx) (err error) {
		s, err = tx.UpdateEventStream(r.PathValue("id"), spec)
		return err
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewEventStream(s))
	return nil
}

func (a *API) deleteEventStream(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.updateNoContent(w, r, c, func(tx *store.Tx) error { return tx.DeleteEventStream(r.PathValue("id")) })
}

func (a *API) rotateEventStreamSecret(w http.ResponseWriter, r *http.Request, c caller) error {
	var view eventStreamView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		s, secret, err := tx.RotateEventStreamSecret(r.PathValue("id"))
		view = viewEventStream(s)
		view.SigningSecret = secret
		return err
	})
	if err != nil {
		return err
	}
	writeSecret(w, http.StatusOK, view)
	return nil
}

// testEventStream sends a test event now and answers with the attempt
// (200 whatever the receiver said: the attempt says it).
func (a *API) testEventStream(w http.ResponseWriter, r *http.Request, _ caller) error {
	if err := decodeBody(r, &struct{}{}); err != nil {
		return err
	}
	if a.streams == nil {
		return newError(http.StatusServiceUnavailable, "event_streams_off", "event stream delivery is not running on this server")
	}
	att, err := a.streams.Test(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, att)
	return nil
}

// eventStreamDeliveries answers the stream's recent attempts, whichever
// node made them (they are kept in the store), plus the ones this node has
// not written yet; and this node's counters.
func (a *API) eventStreamDeliveries(w http.ResponseWriter, r *http.Request, _ caller) error {
	id := r.PathValue("id")
	out := struct {
		Deliveries []streams.Attempt `json:"deliveries"`
		Stats      *streams.Stats    `json:"stats,omitempty"` // absent while delivery is off
	}{}
	if a.streams == nil {
		if err := a.view(w, func(tx *store.ReadTx) (err error) { out.Deliveries, err = tx.EventStreamAttempts(id); return err }); err != nil {
			return err
		}
	} else {
		w.Header().Set(httpconv.RevisionHeader, strconv.FormatUint(a.db.Revision(), 10))
		var err error
		if out.Deliveries, err = a.streams.Deliveries(id); err != nil {
			return err
		}
		stats := a.streams.StreamStats(id)
		out.Stats = &stats
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
