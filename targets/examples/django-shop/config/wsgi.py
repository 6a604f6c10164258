"""WSGI entry point (runserver, or any WSGI server)."""

import os

from django.core.wsgi import get_wsgi_application

from config import telemetry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
telemetry.setup()
