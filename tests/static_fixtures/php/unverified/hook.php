<?php
// A plain PHP webhook that never verifies a signature.
$event = json_decode(file_get_contents('php://input'));
// ruleid: golive.webhook.never-verifies, golive.webhook.event-dispatch.php
if ($event->type === 'checkout.session.completed') {
    fulfil($event->data->object);
}
http_response_code(200);
