# Fixture for golive's Ruby rules (tests/test_static_rules.py). Never run.
class WebhooksController < ApplicationController
  skip_before_action :verify_authenticity_token

  def header_bypass
    payload = request.body.read
    # ruleid: golive.webhook.conditional-verification.ruby
    if request.headers["X-Test-Mode"] == "on"
      event = JSON.parse(payload)
    else
      # ruleid: golive.webhook.verification-call.ruby
      event = Stripe::Webhook.construct_event(payload, request.headers["Stripe-Signature"], SECRET)
    end
    handle(event)
  end

  def env_bypass
    payload = request.body.read
    # ruleid: golive.webhook.conditional-verification.ruby
    unless Rails.env.development?
      # ruleid: golive.webhook.verification-call.ruby
      Stripe::Webhook.construct_event(payload, request.headers["Stripe-Signature"], SECRET)
    end
    handle(JSON.parse(payload))
  end

  def swallowed
    payload = request.body.read
    # ruleid: golive.webhook.swallowed-verification-error.ruby
    begin
      # ruleid: golive.webhook.verification-call.ruby
      Stripe::Webhook.construct_event(payload, request.headers["Stripe-Signature"], SECRET)
    rescue Stripe::SignatureVerificationError => e
      Rails.logger.warn("bad signature #{e.message}")
    end
    handle(JSON.parse(payload))
  end

  def reserialized
    # ruleid: golive.webhook.verification-call.ruby
    event = Stripe::Webhook.construct_event(
      # ruleid: golive.webhook.verifies-parsed-body.ruby
      params.to_json,
      request.headers["Stripe-Signature"],
      SECRET
    )
    handle(event)
  end

  def long_tolerance
    payload = request.body.read
    # ruleid: golive.webhook.verification-call.ruby, golive.webhook.tolerance-over-300.ruby
    event = Stripe::Webhook.construct_event(payload, request.headers["Stripe-Signature"], SECRET, tolerance: 7200)
    handle(event)
  end

  def handle(event)
    case event["type"]
    # ruleid: golive.webhook.event-dispatch.ruby
    when "payment_intent.succeeded"
      mark_paid(event["data"]["object"]["id"])
    end
  end

  # --- correct: nothing fires but the markers ---------------------------------------------

  def correct
    payload = request.body.read
    # ok: golive.webhook.swallowed-verification-error.ruby
    begin
      # ok: golive.webhook.verifies-parsed-body.ruby, golive.webhook.tolerance-over-300.ruby
      # ruleid: golive.webhook.verification-call.ruby
      event = Stripe::Webhook.construct_event(payload, request.headers["Stripe-Signature"], SECRET, tolerance: 300)
    rescue JSON::ParserError, Stripe::SignatureVerificationError
      head :bad_request
      return
    end
    # ok: golive.webhook.conditional-verification.ruby
    if Rails.env.development?
      Rails.logger.info(event.id)
    end
    handle(event)
  end
end
