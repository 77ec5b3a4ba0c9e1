from django.apps import AppConfig


class VideogenConfig(AppConfig):
    name = "videogen"
    verbose_name = "Video generation"
    default_auto_field = "django.db.models.BigAutoField"
