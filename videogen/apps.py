from django.apps import AppConfig


class VideogenConfig(AppConfig):
    name = "videogen"
    verbose_name = "Video generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from videogen import signals  # noqa: F401 - connects the budget gauge receivers
        from videogen.observability import initialise_metrics

        initialise_metrics()
