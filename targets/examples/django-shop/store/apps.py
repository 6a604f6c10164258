from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "store"

    def ready(self) -> None:
        from store import payments

        payments.configure()
