from django.contrib import admin
from django.urls import include, path

from connector_project import views
from credentials.logins import ThrottledLoginForm

# The admin's login is the only way in for people (the console and consent pages sit behind it): throttled.
admin.site.login_form = ThrottledLoginForm

urlpatterns = [
    path("admin/", admin.site.urls),
    # No login and exempt from the HTTPS redirect (settings.SECURE_REDIRECT_EXEMPT): load balancers probe it.
    path("health/", views.health, name="health"),
    path("credentials/", include("credentials.urls")),
    path("", include("sync.urls")),
]
