<?php
// Fixture for golive's PHP rules (tests/test_static_rules.py). Never run.

function header_bypass(): void
{
    $payload = file_get_contents('php://input');
    // ruleid: golive.webhook.conditional-verification.php
    if (($_SERVER['HTTP_X_QA_BYPASS'] ?? '') === '1') {
        handle(json_decode($payload, true));
        return;
    }
    // ruleid: golive.webhook.verification-call.php
    $event = \Stripe\Webhook::constructEvent($payload, $_SERVER['HTTP_STRIPE_SIGNATURE'], SECRET);
    handle($event);
}

function env_bypass(): void
{
    $payload = file_get_contents('php://input');
    // ruleid: golive.webhook.conditional-verification.php
    if (getenv('APP_ENV') !== 'local') {
        // ruleid: golive.webhook.verification-call.php
        \Stripe\Webhook::constructEvent($payload, $_SERVER['HTTP_STRIPE_SIGNATURE'], SECRET);
    }
    handle(json_decode($payload, true));
}

function swallowed(): void
{
    $payload = file_get_contents('php://input');
    // ruleid: golive.webhook.swallowed-verification-error.php
    try {
        // ruleid: golive.webhook.verification-call.php
        \Stripe\Webhook::constructEvent($payload, $_SERVER['HTTP_STRIPE_SIGNATURE'], SECRET);
    } catch (\Stripe\Exception\SignatureVerificationException $e) {
        error_log('bad signature');
    }
    handle(json_decode($payload, true));
}

function reserialized($request): void
{
    $body = json_encode($request->all());
    // ruleid: golive.webhook.verification-call.php
    $event = \Stripe\Webhook::constructEvent(
        // ruleid: golive.webhook.verifies-parsed-body.php
        $body,
        $request->header('Stripe-Signature'),
        SECRET
    );
    handle($event);
}

function long_tolerance(): void
{
    $payload = file_get_contents('php://input');
    // ruleid: golive.webhook.verification-call.php, golive.webhook.tolerance-over-300.php
    $event = \Stripe\Webhook::constructEvent($payload, $_SERVER['HTTP_STRIPE_SIGNATURE'], SECRET, 1200);
    handle($event);
}

function handle($event): void
{
    switch ($event->type) {
        // ruleid: golive.webhook.event-dispatch.php
        case 'payment_intent.succeeded':
            mark_paid($event->data->object->id);
            break;
    }
}

// --- correct: nothing fires but the markers ---------------------------------------------

function correct(): void
{
    $payload = file_get_contents('php://input');
    // ok: golive.webhook.swallowed-verification-error.php
    try {
        // ok: golive.webhook.verifies-parsed-body.php, golive.webhook.tolerance-over-300.php
        // ruleid: golive.webhook.verification-call.php
        $event = \Stripe\Webhook::constructEvent($payload, $_SERVER['HTTP_STRIPE_SIGNATURE'], SECRET, 300);
    } catch (\UnexpectedValueException $e) {
        http_response_code(400);
        exit();
    }
    // ok: golive.webhook.conditional-verification.php
    if (getenv('APP_DEBUG')) {
        error_log($event->id);
    }
    handle($event);
}
