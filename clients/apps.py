from typing import Any

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clients.models import Client
        from config import logging as service_logging
        from config.tenancy import belongs_to_another_tenant

        def is_other_tenants_client(object_id: Any, user: Any) -> bool:
            return belongs_to_another_tenant(Client.objects.all(), object_id, user)

        service_logging.register_tenant_probe("client", is_other_tenants_client)
