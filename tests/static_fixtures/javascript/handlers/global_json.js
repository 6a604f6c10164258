// A JSON parser on every route, then verification over the parsed req.body.
const express = require('express');
const stripe = require('stripe')(process.env.STRIPE_SECRET_KEY);

const app = express();
app.use(express.json());

app.post('/webhook', (req, res) => {
  let event;
  try {
    // ruleid: golive.webhook.verification-call.js, golive.webhook.verifies-json-parsed-request.js
    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.WHSEC);
  } catch (err) {
    return res.status(400).end();
  }
  res.json({ received: true, id: event.id });
});
