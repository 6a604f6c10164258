// A net/http webhook that never verifies a signature.
package hook

import (
	"encoding/json"
	"net/http"

	"github.com/stripe/stripe-go/v82"
)

func Webhook(w http.ResponseWriter, r *http.Request) {
	var event stripe.Event
	_ = json.NewDecoder(r.Body).Decode(&event)
	// ruleid: golive.webhook.never-verifies, golive.webhook.event-dispatch.go
	if event.Type == stripe.EventTypePaymentIntentSucceeded {
		markPaid(event.Data.Raw)
	}
	w.WriteHeader(http.StatusOK)
}
