from django.contrib import admin
from django.urls import path, re_path

from sync.triggers import console_views, views

app_name = "sync"
urlpatterns = [
    # Any slug text and an optional trailing slash: every push, even to a mistyped URL, gets a JSON answer and
    # an inbox row instead of Django's 404 page or a redirect that would drop the POST body.
    re_path(r"^webhooks/netsuite/(?P<slug>[^/]+)/?$", views.netsuite_webhook, name="netsuite-webhook"),
    # The console lives beside the admin and behind its login (admin_view sends strangers to the login page).
    path("console/dashboard/", admin.site.admin_view(console_views.dashboard), name="dashboard"),
    path("console/groups/replay/", admin.site.admin_view(console_views.replay_group), name="replay-group"),
    path("console/groups/resolve/", admin.site.admin_view(console_views.resolve_group), name="resolve-group"),
    path("console/replays/<int:pk>/", admin.site.admin_view(console_views.replay_progress), name="replay-progress"),
    path("console/reconciliation/", admin.site.admin_view(console_views.reconciliation), name="reconciliation"),
    path("console/refresh-references/", admin.site.admin_view(console_views.refresh_references),
         name="refresh-references"),
]
