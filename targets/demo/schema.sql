-- The demo shop's schema: every field and index the production checklist requires.
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  total_cents INTEGER NOT NULL,
  stripe_payment_intent_id TEXT,
  idempotency_key TEXT,
  payment_status TEXT NOT NULL DEFAULT 'pending',
  vendor_amount INTEGER
);
CREATE TABLE payments (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  stripe_payment_intent_id TEXT,
  stripe_charge_id TEXT,
  vendor_amount INTEGER NOT NULL
);
CREATE TABLE webhook_events (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  processed INTEGER NOT NULL DEFAULT 0
);
-- "unique, sparse": unique among rows that have a value (partial index on non-NULL rows).
CREATE UNIQUE INDEX ix_orders_stripe_payment_intent_id ON orders (stripe_payment_intent_id)
  WHERE stripe_payment_intent_id IS NOT NULL;
CREATE UNIQUE INDEX ix_orders_idempotency_key ON orders (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX ix_orders_payment_status ON orders (payment_status);
CREATE UNIQUE INDEX ix_payments_stripe_payment_intent_id ON payments (stripe_payment_intent_id)
  WHERE stripe_payment_intent_id IS NOT NULL;
CREATE UNIQUE INDEX ix_webhook_events_event_id ON webhook_events (event_id);
CREATE INDEX ix_webhook_events_processed ON webhook_events (processed);

INSERT INTO users (id, email, state) VALUES (1, 'ada@example.com', 'CA'), (2, 'bob@example.com', 'NY');
INSERT INTO orders (id, user_id, total_cents, stripe_payment_intent_id, idempotency_key, payment_status, vendor_amount)
  VALUES (1, 1, 2712, 'pi_demo_0001', 'order-1-3f2a', 'paid', 2200),
         (2, 2, 1650, NULL, NULL, 'pending', NULL);
INSERT INTO payments (id, order_id, stripe_payment_intent_id, stripe_charge_id, vendor_amount)
  VALUES (1, 1, 'pi_demo_0001', 'ch_demo_0001', 2200);
INSERT INTO webhook_events (id, event_id, type, processed)
  VALUES (1, 'evt_demo_0001', 'payment_intent.succeeded', 1);
