from django.apps import AppConfig


class VideogenConfig(AppConfig):
    name = "videogen"
    verbose_name = "Video generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config import logging as service_logging
        from videogen import selectors, signals  # noqa: F401 - signals connects the budget gauge receivers
        from videogen.observability import initialise_metrics

        initialise_metrics()
        service_logging.register_job_labels(selectors.job_log_labels)
        service_logging.register_tenant_probe("job", selectors.is_other_tenants_job)
