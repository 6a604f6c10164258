// Correct: the webhook route gets the raw body before any JSON parser.
const express = require('express');
const stripe = require('stripe')(process.env.STRIPE_SECRET_KEY);

const app = express();
app.post('/webhook', express.raw({ type: 'application/json' }), (req, res) => {
  let event;
  try {
    // ok: golive.webhook.verifies-json-parsed-request.js, golive.webhook.verifies-parsed-body.js
    // ruleid: golive.webhook.verification-call.js
    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.WHSEC);
  } catch (err) {
    return res.status(400).end();
  }
  res.json({ received: true, id: event.id });
});
app.use(express.json());
