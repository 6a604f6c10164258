// An Express webhook that never verifies a signature.
const express = require('express');

const app = express();
app.post('/webhook', express.json(), (req, res) => {
  const event = req.body;
  // ruleid: golive.webhook.never-verifies, golive.webhook.event-dispatch.js
  if (event.type === 'checkout.session.completed') {
    fulfil(event.data.object);
  }
  res.json({ received: true });
});
