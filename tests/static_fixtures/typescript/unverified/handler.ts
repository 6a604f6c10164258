// A Next.js route that trusts whatever is posted.
export async function POST(request: Request): Promise<Response> {
  const event = (await request.json()) as { type: string; data: { object: unknown } };
  switch (event.type) {
    // ruleid: golive.webhook.never-verifies, golive.webhook.event-dispatch.js
    case 'invoice.paid':
      await markPaid(event.data.object);
      break;
  }
  return Response.json({ received: true });
}
