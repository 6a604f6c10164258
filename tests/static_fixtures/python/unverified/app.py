# A Flask webhook that never verifies a signature: golive combines the markers into
# golive.webhook.never-verifies at the first event type the file handles.
import json

from flask import Flask, request

app = Flask(__name__)


@app.post("/webhook")
def webhook():
    event = json.loads(request.data)
    # ruleid: golive.webhook.never-verifies, golive.webhook.event-dispatch.python
    if event["type"] == "payment_intent.succeeded":
        mark_paid(event["data"]["object"]["id"])
    # ruleid: golive.webhook.event-dispatch.python
    elif event["type"] == "charge.refunded":
        mark_refunded(event["data"]["object"]["payment_intent"])
    return {"received": True}
