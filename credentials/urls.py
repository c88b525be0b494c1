from django.urls import path

from credentials import views

app_name = "credentials"
urlpatterns = [
    path("netsuite/oauth/callback/", views.consent_callback, name="consent-callback"),
    path("netsuite/<slug:name>/consent/", views.start_consent, name="start-consent"),
]
