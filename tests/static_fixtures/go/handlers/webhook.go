// Fixture for golive's Go rules (tests/test_static_rules.py). Never built.
package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

func HeaderBypass(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	// ruleid: golive.webhook.conditional-verification.go
	if r.Header.Get("X-Loadtest") == "1" {
		handle(payload)
		return
	}
	// ruleid: golive.webhook.verification-call.go
	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), os.Getenv("WHSEC"))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	dispatch(event)
}

func EnvBypass(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	// ruleid: golive.webhook.conditional-verification.go
	if os.Getenv("GO_ENV") == "production" {
		// ruleid: golive.webhook.verification-call.go
		if _, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), secret); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
	}
	handle(payload)
}

func Swallowed(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	// ruleid: golive.webhook.swallowed-verification-error.go, golive.webhook.verification-call.go
	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), secret)
	if err != nil {
		logf("bad signature: %v", err)
	}
	dispatch(event)
}

func Reserialized(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	payload, _ := json.Marshal(body)
	// ruleid: golive.webhook.verification-call.go
	event, err := webhook.ConstructEvent(
		// ruleid: golive.webhook.verifies-parsed-body.go
		payload,
		r.Header.Get("Stripe-Signature"), secret)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	dispatch(event)
}

func LongTolerance(payload []byte, header string) (stripe.Event, error) {
	// ruleid: golive.webhook.verification-call.go
	return webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{
		// ruleid: golive.webhook.tolerance-over-300.go
		Tolerance: 30 * time.Minute,
	})
}

func dispatch(event stripe.Event) {
	switch event.Type {
	// ruleid: golive.webhook.event-dispatch.go
	case "payment_intent.succeeded":
		markPaid(event.Data.Raw)
	}
}

// --- correct: nothing fires but the markers ---------------------------------------------

func Correct(w http.ResponseWriter, r *http.Request) {
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 65536))
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	// ok: golive.webhook.swallowed-verification-error.go, golive.webhook.verifies-parsed-body.go
	// ruleid: golive.webhook.verification-call.go
	event, err := webhook.ConstructEventWithOptions(payload, r.Header.Get("Stripe-Signature"), secret, webhook.ConstructEventOptions{
		// ok: golive.webhook.tolerance-over-300.go
		Tolerance: 300 * time.Second,
	})
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// ok: golive.webhook.conditional-verification.go
	if os.Getenv("DEBUG") != "" {
		logf("event %s", event.ID)
	}
	dispatch(event)
}
