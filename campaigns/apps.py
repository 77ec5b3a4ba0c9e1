from typing import Any

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.models import Campaign
        from config import logging as service_logging
        from config.tenancy import belongs_to_another_tenant

        def is_other_tenants_campaign(object_id: Any, user: Any) -> bool:
            return belongs_to_another_tenant(Campaign.objects.all(), object_id, user)

        service_logging.register_tenant_probe("campaign", is_other_tenants_campaign)
