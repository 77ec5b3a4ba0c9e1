from django.urls import path

from videogen.api import uploads

urlpatterns = [
    path("upload-asset", uploads.UploadAssetView.as_view(), name="upload-asset"),
]
