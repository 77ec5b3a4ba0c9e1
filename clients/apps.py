from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clients.models import Client
        from config import logging as service_logging
        from config.tenancy import tenant_probe

        service_logging.register_tenant_probe("client", tenant_probe(Client))
