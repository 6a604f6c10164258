"""Webhook endpoint CRUD, the account and its admin setter."""

from __future__ import annotations

import httpx
import pytest
import sandboxkit
import stripe

_module_sandbox = sandboxkit._module_sandbox
sandbox = sandboxkit.sandbox
stripe_client = sandboxkit.stripe_client


def test_webhook_endpoint_crud_shows_the_secret_only_on_create(stripe_client):
    created = stripe_client.v1.webhook_endpoints.create(
        params={
            "url": "http://127.0.0.1:9/hooks",
            "enabled_events": ["payment_intent.succeeded", "charge.refunded"],
            "description": "shop",
            "api_version": "2025-01-27.acacia",
        }
    )
    assert created.id.startswith("we_")
    assert created.secret.startswith("whsec_")
    assert (created.status, created.url, created.api_version) == (
        "enabled",
        "http://127.0.0.1:9/hooks",
        "2025-01-27.acacia",
    )

    fetched = stripe_client.v1.webhook_endpoints.retrieve(created.id)
    assert "secret" not in fetched
    assert fetched.enabled_events == ["payment_intent.succeeded", "charge.refunded"]

    updated = stripe_client.v1.webhook_endpoints.update(
        created.id,
        params={"enabled_events": ["*"], "disabled": True, "url": "http://127.0.0.1:9/v2"},
    )
    assert (updated.enabled_events, updated.status, updated.url) == (
        ["*"],
        "disabled",
        "http://127.0.0.1:9/v2",
    )
    assert "secret" not in updated
    assert [e.id for e in stripe_client.v1.webhook_endpoints.list().data] == [created.id]

    deleted = stripe_client.v1.webhook_endpoints.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    assert stripe_client.v1.webhook_endpoints.list().data == []
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.webhook_endpoints.retrieve(created.id)
    assert caught.value.code == "resource_missing"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        (
            {"url": "http://127.0.0.1:9/h", "enabled_events": ["payment_intent.succeded"]},
            "enabled_events[0]",
        ),
        ({"url": "not a url", "enabled_events": ["*"]}, "url"),
        ({"url": "http://127.0.0.1:9/h"}, "enabled_events"),
    ],
)
def test_webhook_endpoint_validation(stripe_client, params, param):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.webhook_endpoints.create(params=params)
    assert caught.value.param == param


def test_default_account_is_unbranded(stripe_client):
    account = stripe_client.v1.accounts.retrieve_current()
    assert account.object == "account"
    assert account.id.startswith("acct_")
    assert (account.country, account.default_currency, account.charges_enabled) == (
        "US",
        "usd",
        True,
    )
    assert account.business_profile.name is None
    assert account.settings.payments.statement_descriptor is None
    assert account.settings.branding.logo is None


def test_admin_sets_account_fields(sandbox, stripe_client):
    sandbox.set_account(
        {
            "business_profile": {
                "name": "Acme Shop",
                "support_email": "help@acme.test",
                "url": "https://acme.test",
            },
            "settings": {
                "payments": {"statement_descriptor": "ACME SHOP"},
                "branding": {"logo": "file_logo", "icon": "file_icon", "primary_color": "#ff0000"},
            },
            "email": "owner@acme.test",
            "charges_enabled": False,
        }
    )
    account = stripe_client.v1.accounts.retrieve_current()
    assert account.business_profile.name == "Acme Shop"
    assert account.business_profile.support_email == "help@acme.test"
    assert account.business_profile.url == "https://acme.test"
    assert account.business_profile.support_phone is None  # untouched fields stay
    assert account.settings.payments.statement_descriptor == "ACME SHOP"
    assert account.settings.branding.primary_color == "#ff0000"
    assert (account.email, account.charges_enabled) == ("owner@acme.test", False)
    # the descriptor reaches charges, as it would on customers' statements
    pi = sandboxkit.paid_intent(stripe_client, statement_descriptor_suffix="ORDER 42")
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert charge.calculated_statement_descriptor == "ACME SHOP* ORDER 42"


def test_admin_account_form_encoding_and_unknown_fields(sandbox):
    response = httpx.post(
        f"{sandbox.url}/_golive/account",
        data={"business_profile[name]": "Form Co", "payouts_enabled": "false"},
        trust_env=False,
    )
    assert response.status_code == 200
    assert response.json()["business_profile"]["name"] == "Form Co"
    assert response.json()["payouts_enabled"] is False
    response = httpx.post(
        f"{sandbox.url}/_golive/account", json={"business_profile": {"nmae": "x"}}, trust_env=False
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "business_profile[nmae]"
    response = httpx.post(
        f"{sandbox.url}/_golive/account", json={"id": "acct_mine"}, trust_env=False
    )
    assert response.status_code == 400


def test_reset_wipes_objects_and_account(sandbox, stripe_client):
    sandbox.set_account({"business_profile": {"name": "Acme"}})
    sandboxkit.paid_intent(stripe_client)
    assert sandbox.stats()["objects"]["payment_intent"] == 1
    sandbox.reset()
    assert stripe_client.v1.payment_intents.list().data == []
    assert stripe_client.v1.events.list().data == []
    assert stripe_client.v1.accounts.retrieve_current().business_profile.name is None
    assert sandbox.stats()["objects"]["payment_intent"] == 0
