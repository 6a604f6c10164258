"""manage.py reset_demo: a fresh demo database — dropped and created again (or, with
--flush, emptied), migrated and seeded (store/seed.py).

It destroys data, so it only runs against a database on this machine (127.0.0.1, localhost
or a Unix socket) unless SHOP_ALLOW_RESET=1 says otherwise.
"""

from __future__ import annotations

import os

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from psycopg import sql

from store import seed

LOCAL_HOSTS = ("", "127.0.0.1", "localhost", "::1")


class Command(BaseCommand):
    help = "Drop and recreate the shop's database (or --flush it), migrate, seed demo data."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--flush",
            action="store_true",
            help="empty the tables instead of dropping the database (no CREATEDB needed)",
        )

    def handle(self, *args, flush: bool = False, **options) -> None:
        db = settings.DATABASES["default"]
        host = db.get("HOST") or ""
        if (host not in LOCAL_HOSTS and not host.startswith("/")) and os.environ.get(
            "SHOP_ALLOW_RESET"
        ) != "1":
            raise CommandError(
                f"refusing to reset a database on {host!r}: set SHOP_ALLOW_RESET=1 if you mean it"
            )
        if flush:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("flush", interactive=False, verbosity=0)
        else:
            connections.close_all()
            self._recreate(db)
            call_command("migrate", interactive=False, verbosity=0)
        counts = seed.seed()
        self.stdout.write(
            f"reset_demo: database {db['NAME']!r} ready: {counts['products']} products, "
            f"{counts['users']} users (passwords pw-<username>)"
        )

    @staticmethod
    def _recreate(db: dict) -> None:
        params = {
            "dbname": "postgres",
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
            "autocommit": True,
        }
        name = sql.Identifier(db["NAME"])
        try:
            with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
                conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
        except psycopg.Error as exc:
            raise CommandError(
                f"could not recreate database {db['NAME']!r} ({exc.__class__.__name__}); "
                "--flush empties it instead"
            ) from None
