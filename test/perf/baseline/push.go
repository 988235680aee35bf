package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
)

// maxBody fits Pub/Sub's largest message in a wrapped envelope.
const maxBody = 16 << 20

// maxEvents is how many events the app keeps for GET /api/events.
const maxEvents = 1000

type event struct {
	ID          string            `json:"id"`
	Source      string            `json:"source"`
	Data        string            `json:"data"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	PublishTime string            `json:"publishTime,omitempty"`
	ReceivedAt  time.Time         `json:"receivedAt"`
	Job         string            `json:"job,omitempty"`
}

// app de-duplicates push messages by ID and keeps the latest events.
type app struct {
	mu     sync.Mutex
	seen   map[string]bool
	events []event // ring; next is where the next event goes
	next   int
}

func newApp() *app { return &app{seen: make(map[string]bool), events: make([]event, 0, maxEvents)} }

type pushEnvelope struct {
	Message struct {
		Data        string            `json:"data"`
		Attributes  map[string]string `json:"attributes"`
		MessageID   string            `json:"messageId"`
		PublishTime string            `json:"publishTime"`
	} `json:"message"`
	Subscription string `json:"subscription"`
}

func (a *app) push(w http.ResponseWriter, r *http.Request) {
	var env pushEnvelope
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&env); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		writeError(w, http.StatusBadRequest, "body is not a push envelope")
		return
	}
	if env.Message.MessageID == "" {
		writeError(w, http.StatusBadRequest, "no message ID")
		return
	}
	data, err := base64.StdEncoding.DecodeString(env.Message.Data)
	if err != nil {
		writeError(w, http.StatusBadRequest, "message.data is not base64")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen[env.Message.MessageID] {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	a.seen[env.Message.MessageID] = true
	a.add(event{
		ID: env.Message.MessageID, Source: "pubsub", Data: string(data),
		Attributes: env.Message.Attributes, PublishTime: env.Message.PublishTime, ReceivedAt: time.Now().UTC(),
	})
	w.WriteHeader(http.StatusNoContent)
}

func (a *app) schedule(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	job := r.Header.Get("X-CloudScheduler-JobName")
	if job == "" {
		job = chi.URLParam(r, "job")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.add(event{ID: job + "-" + strconv.FormatInt(time.Now().UnixNano(), 10), Source: "scheduler", Data: string(body), ReceivedAt: time.Now().UTC(), Job: job})
	w.WriteHeader(http.StatusNoContent)
}

// add keeps the last maxEvents events; a.mu is held.
func (a *app) add(e event) {
	if len(a.events) < maxEvents {
		a.events = append(a.events, e)
	} else {
		a.events[a.next] = e
	}
	a.next = (a.next + 1) % maxEvents
}

func (a *app) listEvents(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	out := make([]event, 0, len(a.events))
	for i := 1; i <= len(a.events); i++ {
		out = append(out, a.events[(a.next-i+maxEvents)%maxEvents])
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string][]event{"events": out})
}
