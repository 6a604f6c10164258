// Fixture for golive's TypeScript rules (a Next.js route handler). Never run.
import Stripe from 'stripe';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY as string);
const secret = process.env.STRIPE_WEBHOOK_SECRET as string;

export async function POST(request: Request): Promise<Response> {
  const raw: string = await request.text();
  let event: Stripe.Event;
  // ruleid: golive.webhook.conditional-verification.js
  if (process.env.SKIP_WEBHOOK_SIGNATURE === '1') {
    event = JSON.parse(raw) as Stripe.Event;
  } else {
    // ruleid: golive.webhook.verification-call.js
    event = await stripe.webhooks.constructEventAsync(raw, request.headers.get('stripe-signature') ?? '', secret);
  }
  return dispatch(event);
}

export async function reserialized(request: Request): Promise<Response> {
  const body: unknown = await request.json();
  // ruleid: golive.webhook.verification-call.js
  const event = stripe.webhooks.constructEvent(
    // ruleid: golive.webhook.verifies-parsed-body.js
    JSON.stringify(body),
    request.headers.get('stripe-signature') ?? '',
    secret,
  );
  return dispatch(event);
}

export async function swallowed(request: Request): Promise<Response> {
  const raw = await request.text();
  // ruleid: golive.webhook.swallowed-verification-error.js
  try {
    // ruleid: golive.webhook.verification-call.js
    stripe.webhooks.constructEvent(raw, request.headers.get('stripe-signature') ?? '', secret);
  } catch {
    console.error('bad signature');
  }
  return dispatch(JSON.parse(raw) as Stripe.Event);
}

// ruleid: golive.webhook.tolerance-over-300.js
const options = { tolerance: 900 };

export async function correct(request: Request): Promise<Response> {
  const raw = await request.text();
  let event: Stripe.Event;
  // ok: golive.webhook.swallowed-verification-error.js
  try {
    // ok: golive.webhook.verifies-parsed-body.js, golive.webhook.tolerance-over-300.js
    // ruleid: golive.webhook.verification-call.js
    event = stripe.webhooks.constructEvent(raw, request.headers.get('stripe-signature') ?? '', secret, 300);
  } catch (err) {
    return new Response('bad signature', { status: 400 });
  }
  // ok: golive.webhook.conditional-verification.js
  if (request.headers.get('x-debug')) {
    console.log(event.id);
  }
  return dispatch(event);
}

function dispatch(event: Stripe.Event): Response {
  // ruleid: golive.webhook.event-dispatch.js
  if (event.type === 'payment_intent.payment_failed') {
    markFailed(event.data.object);
  }
  return Response.json({ received: true });
}
