from django.apps import AppConfig


class VideogenConfig(AppConfig):
    name = "videogen"
    verbose_name = "Video generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config import logging as service_logging
        from config.tenancy import tenant_probe
        from videogen import selectors, signals  # noqa: F401 - signals connects the budget gauge receivers
        from videogen.live.notify import publish_job_changed
        from videogen.live.snapshots import record_status_change
        from videogen.models import VideoJob
        from videogen.observability import initialise_metrics
        from videogen.pipeline.state import job_changed, status_entered

        job_changed.connect(publish_job_changed, sender=VideoJob, dispatch_uid="videogen.live.publish_job_changed")
        status_entered.connect(record_status_change, sender=VideoJob, dispatch_uid="videogen.live.snapshots")

        initialise_metrics()
        service_logging.register_job_labels(selectors.job_log_labels)
        service_logging.register_tenant_probe("job", tenant_probe(VideoJob))
