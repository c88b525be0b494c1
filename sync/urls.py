from django.urls import re_path

from sync import views

app_name = "sync"
urlpatterns = [
    # Any slug text and an optional trailing slash: every push, even to a mistyped URL, gets a JSON answer and
    # an inbox row instead of Django's 404 page or a redirect that would drop the POST body.
    re_path(r"^webhooks/netsuite/(?P<slug>[^/]+)/?$", views.netsuite_webhook, name="netsuite-webhook"),
]
