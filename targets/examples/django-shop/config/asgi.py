"""ASGI entry point: `python -m uvicorn config.asgi:application` (uvicorn is in golive's venv).

Django's ASGI handler runs each request's synchronous views in a thread of their own, so
requests do not queue behind one another."""

import os

from django.core.asgi import get_asgi_application

from config import telemetry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
telemetry.setup()
