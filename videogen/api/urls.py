from django.urls import path, re_path

from videogen.api import analytics, jobs, uploads, webhooks

urlpatterns = [
    path("upload-asset", uploads.UploadAssetView.as_view(), name="upload-asset"),
    path("generate", jobs.GenerateView.as_view(), name="generate"),
    re_path(r"^jobs/?$", jobs.JobListView.as_view(), name="job-list"),
    path("jobs/<int:job_id>", jobs.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<int:job_id>/approve", jobs.ApproveView.as_view(), name="job-approve"),
    path("jobs/<int:job_id>/render", jobs.RenderView.as_view(), name="job-render"),
    path("jobs/<int:job_id>/refine", jobs.RefineView.as_view(), name="job-refine"),
    path("jobs/<int:job_id>/data", jobs.JobDataView.as_view(), name="job-data"),
    path("jobs/<int:job_id>/thumbnail", jobs.JobThumbnailView.as_view(), name="job-thumbnail"),
    path("analytics", analytics.AnalyticsView.as_view(), name="analytics"),
    path("webhooks/replicate", webhooks.ReplicateWebhookView.as_view(), name="replicate-webhook"),
]
