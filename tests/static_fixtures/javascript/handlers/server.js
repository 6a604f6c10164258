// Fixture for golive's JavaScript rules (tests/test_static_rules.py). Never run.
const express = require('express');
const crypto = require('crypto');
const stripe = require('stripe')(process.env.STRIPE_SECRET_KEY);

const app = express();
const secret = process.env.STRIPE_WEBHOOK_SECRET;

app.post('/hooks/header', express.raw({ type: 'application/json' }), (req, res) => {
  // ruleid: golive.webhook.conditional-verification.js
  if (req.headers['x-e2e-bypass'] === 'true') {
    handle(JSON.parse(req.body));
    return res.sendStatus(200);
  }
  let event;
  try {
    // ruleid: golive.webhook.verification-call.js
    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], secret);
  } catch (err) {
    return res.status(400).send('bad signature');
  }
  handle(event);
  res.json({ received: true });
});

app.post('/hooks/env', express.raw({ type: 'application/json' }), (req, res) => {
  const event =
    // ruleid: golive.webhook.conditional-verification.js
    process.env.NODE_ENV === 'development'
      ? JSON.parse(req.body)
      // ruleid: golive.webhook.verification-call.js
      : stripe.webhooks.constructEvent(req.body, req.get('stripe-signature'), secret);
  handle(event);
  res.json({ received: true });
});

app.post('/hooks/query', express.raw({ type: 'application/json' }), (req, res) => {
  let event = JSON.parse(req.body);
  // ruleid: golive.webhook.conditional-verification.js
  if (!req.query.skipVerify) {
    // ruleid: golive.webhook.verification-call.js
    event = stripe.webhooks.constructEvent(req.body, req.get('stripe-signature'), secret);
  }
  handle(event);
  res.json({ received: true });
});

app.post('/hooks/swallow', express.raw({ type: 'application/json' }), (req, res) => {
  let event = JSON.parse(req.body);
  // ruleid: golive.webhook.swallowed-verification-error.js
  try {
    // ruleid: golive.webhook.verification-call.js
    stripe.webhooks.constructEvent(req.body, req.get('stripe-signature'), secret);
  } catch (err) {
    console.warn('signature failed', err.message);
  }
  handle(event);
  res.json({ received: true });
});

app.post('/hooks/restringified', express.json(), (req, res) => {
  const payload = JSON.stringify(req.body);
  // ruleid: golive.webhook.verification-call.js
  const event = stripe.webhooks.constructEvent(
    // ruleid: golive.webhook.verifies-parsed-body.js
    payload,
    req.get('stripe-signature'),
    secret,
  );
  handle(event);
  res.json({ received: true });
});

// ruleid: golive.webhook.verification-call.js, golive.webhook.tolerance-over-300.js
const slack = (body, sig) => stripe.webhooks.constructEvent(body, sig, secret, 3600);

// ruleid: golive.webhook.tolerance-over-300.js
const WEBHOOK_TOLERANCE = 1800;

function dispatch(event) {
  switch (event.type) {
    // ruleid: golive.webhook.event-dispatch.js
    case 'payment_intent.succeeded':
      return markPaid(event.data.object.id);
    default:
      return null;
  }
}

// --- correct: nothing fires but the markers --------------------------------------------

// ok: golive.webhook.tolerance-over-300.js
const TOLERANCE_S = 300;

app.post('/hooks/correct', express.raw({ type: 'application/json' }), (req, res) => {
  let event;
  // ok: golive.webhook.swallowed-verification-error.js
  try {
    // ruleid: golive.webhook.verification-call.js
    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], secret, 300);
  } catch (err) {
    res.status(400).send(`Webhook Error: ${err.message}`);
    return;
  }
  // ok: golive.webhook.conditional-verification.js
  if (process.env.NODE_ENV !== 'production') {
    console.log('event', event.id);
  }
  handle(event);
  res.json({ received: true });
});

function verifyManually(raw, header, key) {
  const [t, v1] = parse(header);
  const expected = crypto.createHmac('sha256', key).update(`${t}.${raw}`).digest('hex');
  // ruleid: golive.webhook.verification-call.js
  if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(v1))) {
    throw new Error('bad signature');
  }
}
