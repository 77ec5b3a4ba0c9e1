from django.apps import AppConfig


class VideogenConfig(AppConfig):
    name = "videogen"
    verbose_name = "Video generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from videogen.observability import initialise_metrics

        initialise_metrics()
