package apptest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// StripeWebhookSecret signs the webhook events of tests.
const StripeWebhookSecret = "whsec_koe_test_secret"

// StripeMock returns the configuration that points Koe at stripe-mock
// (KOE_TEST_STRIPE_URL). The test is skipped without it, except under
// CI=true where it fails.
func StripeMock(t testing.TB) map[string]string {
	t.Helper()
	url := os.Getenv("KOE_TEST_STRIPE_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("stripe-mock is required under CI: run the tests with `make test`")
		}
		t.Skip("KOE_TEST_STRIPE_URL is not set; `make test` starts stripe-mock")
	}
	return map[string]string{"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_WEBHOOK_SECRET": StripeWebhookSecret, "STRIPE_API_BASE": url}
}

// StripeEvent is an event as Stripe sends it, in the API version stripe-go
// v76 speaks.
func StripeEvent(id, typ string, created time.Time, object map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": stripe.APIVersion, "created": created.Unix(), "type": typ,
		"livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": object},
	})
	return b
}

// PostStripe sends a webhook body signed with secret at signedAt and returns
// the status code.
func (s *Server) PostStripe(body []byte, secret string, signedAt time.Time) int {
	s.t.Helper()
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: signedAt})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/webhooks/stripe", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signed.Header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("POST /webhooks/stripe: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// PostStripeSigned signs one body and sends another, as a tampering proxy
// would, and returns the status code.
func (s *Server) PostStripeSigned(signed, sent []byte, secret string) int {
	s.t.Helper()
	header := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: signed, Secret: secret}).Header
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/webhooks/stripe", bytes.NewReader(sent))
	req.Header.Set("Stripe-Signature", header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("POST /webhooks/stripe: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
