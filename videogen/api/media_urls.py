"""`/media/signed/<token>`: URLs made by videogen.signed_urls, answered by videogen.api.signing."""

from django.urls import path

from videogen.api.signing import serve_signed_media

urlpatterns = [
    path("<str:token>", serve_signed_media, name="signed-media"),
]
