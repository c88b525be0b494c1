"""NetSuite consent for the authorization-code method: send the administrator to NetSuite, and take
the code NetSuite's redirect brings back."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from credentials.errors import ConnectionFailed
from credentials.models import NetSuiteConnection
from credentials.netsuite_auth import complete_consent, consent_url

CHANGE_CONNECTION = "credentials.change_netsuiteconnection"


@permission_required(CHANGE_CONNECTION, raise_exception=True)
def start_consent(request: HttpRequest, name: str) -> HttpResponse:
    connection = get_object_or_404(NetSuiteConnection, name=name)
    redirect_uri = connection.redirect_uri or request.build_absolute_uri(reverse("credentials:consent-callback"))
    return redirect(consent_url(connection=connection, redirect_uri=redirect_uri))


@permission_required(CHANGE_CONNECTION, raise_exception=True)
def consent_callback(request: HttpRequest) -> HttpResponse:
    if request.GET.get("error"):
        messages.error(request, f"NetSuite did not give consent: {request.GET['error']}.")
        return redirect("admin:credentials_netsuiteconnection_changelist")
    try:
        connection = complete_consent(state=request.GET.get("state", ""), code=request.GET.get("code", ""))
    except ConnectionFailed as exc:
        messages.error(request, exc.message)
        return redirect("admin:credentials_netsuiteconnection_changelist")
    messages.success(request, f"{connection.name}: consent received; the connection can sync again.")
    return redirect("admin:credentials_netsuiteconnection_change", connection.pk)
