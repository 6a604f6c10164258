"""The shop's routes (README.md describes each)."""

from django.contrib.auth.views import LogoutView
from django.urls import include, path
from store import views, webhooks

urlpatterns = [
    path("health/", views.health, name="health"),
    path("accounts/login/", views.ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("hooks/stripe/", webhooks.stripe_webhook, name="stripe-webhook"),
    path("store/", include("store.urls")),
]

handler400 = "store.views.bad_request"
handler403 = "store.views.forbidden"
handler404 = "store.views.not_found"
handler500 = "store.views.server_error"
