from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.models import Campaign
        from config import logging as service_logging
        from config.tenancy import tenant_probe

        service_logging.register_tenant_probe("campaign", tenant_probe(Campaign))
