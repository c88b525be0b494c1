"""Connections in the admin: secrets are write-only (never rendered back; a blank field keeps the
stored one), "Test connection" says what was checked and what failed, history leaves secrets out.
Only superusers and the "Integration admin" group have permissions here."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from credentials.diagnosis import check_connection
from credentials.models import (
    JAGGAER_SECRET_FIELDS,
    NETSUITE_SECRET_FIELDS,
    AccessToken,
    ConnectionPair,
    JaggaerConnection,
    NetSuiteAuthMethod,
    NetSuiteConnection,
    NetSuiteReadMode,
)


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders what is stored (for private keys)."""

    def format_value(self, value: Any) -> None:
        return None


# Django 6 assumes https for scheme-less URLs; say so now (and silence the transition warning).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


def _formfield(field: models.Field, **kwargs: Any) -> forms.Field | None:
    return field.formfield(**{**URL_FIELDS_ASSUME_HTTPS.get(type(field), {}), **kwargs})


class WriteOnlySecretsForm(forms.ModelForm):
    """Secret fields start empty; left empty, the stored secret is kept."""

    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.secret_fields:
            if name not in self.fields:
                continue
            field = self.fields[name]
            field.required = False
            multiline = isinstance(field.widget, forms.Textarea)
            field.widget = (WriteOnlyTextarea(attrs={"rows": 4}) if multiline
                            else forms.PasswordInput(render_value=False))
            field.initial = None
            if self.instance.pk and getattr(self.instance, name):
                field.help_text = "Stored. Leave empty to keep it; type a new value to replace it."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in self.secret_fields:
            if name in cleaned and not cleaned[name] and self.instance.pk and getattr(self.instance, name):
                del cleaned[name]  # construct_instance then leaves the stored value alone
        return cleaned

    def has_changed(self) -> bool:
        return any(name not in self.secret_fields or self.data.get(self.add_prefix(name))
                   for name in self.changed_data)


# What REST records mode cannot see, said where the mode is chosen (README, "Read modes").
READ_MODE_HELP = (
    "SuiteQL reads in bulk and needs the SuiteAnalytics Workbook permission. REST records works for a role with REST "
    "Web Services only, at about one request per record, and cannot see a line-only edit that does not move the "
    "record's last-modified date: deploy the push script (sync/suitescript/) so that such edits reach JAGGAER."
)


class NetSuiteConnectionForm(WriteOnlySecretsForm):
    secret_fields = NETSUITE_SECRET_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "read_mode" in self.fields:
            self.fields["read_mode"].help_text = READ_MODE_HELP

    class Meta:
        model = NetSuiteConnection
        fields = "__all__"
        formfield_callback = _formfield


class JaggaerConnectionForm(WriteOnlySecretsForm):
    secret_fields = JAGGAER_SECRET_FIELDS

    class Meta:
        model = JaggaerConnection
        fields = "__all__"
        formfield_callback = _formfield


def report_connection_test(modeladmin: admin.ModelAdmin, request: HttpRequest,
                           connection: NetSuiteConnection | JaggaerConnection) -> None:
    """Tests the connection and says what was checked, and what failed, as a message."""
    report = check_connection(connection=connection)
    if report.ok:
        modeladmin.message_user(request, f"{connection.name}: works. Checked: {report.summary}", messages.SUCCESS)
    else:
        modeladmin.message_user(request, f"{connection.name}: {report.problem}. {report.summary}", messages.ERROR)


@admin.action(description="Test connection")
def test_connections(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    for connection in queryset:
        report_connection_test(modeladmin, request, connection)


class ConnectionAdmin(SimpleHistoryAdmin):
    actions = [test_connections]
    # The connection page's "Test connection" button (object tools), beside the list's action.
    change_form_template = "admin/credentials/connection_change_form.html"
    change_list_template = "admin/credentials/connection_change_list.html"  # messages that keep the name as typed
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    search_fields = ["name"]
    secret_fields: tuple[str, ...] = ()
    token_owner = ""  # the AccessToken field that points at this kind of connection

    @admin.display(description="stored secrets")
    def stored_secrets(self, obj: NetSuiteConnection | JaggaerConnection) -> str:
        stored = [obj._meta.get_field(name).verbose_name for name in self.secret_fields if getattr(obj, name)]
        return ", ".join(stored) if stored else "none"

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        return [
            path("<path:object_id>/test/", self.admin_site.admin_view(require_POST(self.test_connection_view)),
                 name=f"{opts.app_label}_{opts.model_name}_test"),
            *super().get_urls(),
        ]

    def test_connection_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        connection = get_object_or_404(self.model, pk=object_id)
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        report_connection_test(self, request, connection)
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[connection.pk]))

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # The credentials may have changed: the next request mints a token with the saved ones.
        AccessToken.objects.filter(**{self.token_owner: obj}).delete()


@admin.register(NetSuiteConnection)
class NetSuiteConnectionAdmin(ConnectionAdmin):
    form = NetSuiteConnectionForm
    secret_fields = NETSUITE_SECRET_FIELDS
    token_owner = "netsuite"
    list_display = ["name", "account_id", "auth_method", "read_mode", "needs_consent", "last_test_ok", "last_tested_at"]
    list_filter = ["auth_method", "read_mode", "needs_consent", "last_test_ok"]
    readonly_fields = ["stored_secrets", "consent", "refresh_token_expires_at", "last_tested_at", "last_test_ok",
                       "last_test_result", "read_mode_note"]
    fieldsets = [
        (None, {"fields": ["name", "account_id", "base_url", "timezone", "concurrency_limit", "webhook_secret"]}),
        ("Reading", {"fields": ["read_mode", "read_mode_note"]}),
        ("Authentication", {"fields": ["auth_method", "stored_secrets"]}),
        ("OAuth 2.0 client credentials", {"fields": ["client_id", "certificate_id", "algorithm", "private_key_pem"]}),
        ("OAuth 2.0 authorization code", {"fields": ["client_secret", "refresh_token", "redirect_uri", "consent",
                                                     "refresh_token_expires_at"]}),
        ("Token-based authentication", {"fields": ["consumer_key", "consumer_secret", "token_id", "token_secret"]}),
        ("Last test", {"fields": ["last_tested_at", "last_test_ok", "last_test_result"]}),
    ]

    @admin.display(description="what this mode sees")
    def read_mode_note(self, obj: NetSuiteConnection) -> str:
        if obj.read_mode != NetSuiteReadMode.REST_RECORDS:
            return "Every change, line-only edits included (SuiteQL reads the lines' own last-modified dates)."
        return format_html(
            "<strong>{}</strong> {}", "REST records cannot see a line-only edit",
            "that does not move the record's last-modified date: such an edit reaches JAGGAER with the record's next "
            "header change, or at once through push (deploy the SuiteScript in sync/suitescript/, "
            "docs/netsuite-push.md). Deletions cost a listing of every id per pass (docs/netsuite-rest-records.md).")

    @admin.display(description="consent")
    def consent(self, obj: NetSuiteConnection) -> str:
        if not obj.pk or obj.auth_method != NetSuiteAuthMethod.AUTHORIZATION_CODE:
            return "Only for the authorization code method."
        link = reverse("credentials:start-consent", args=[obj.name])
        if obj.needs_consent:
            return format_html('<strong>Needs consent.</strong> <a href="{}">Open NetSuite to consent</a>', link)
        return format_html('Consent given. <a href="{}">Consent again</a>', link)


@admin.register(JaggaerConnection)
class JaggaerConnectionAdmin(ConnectionAdmin):
    form = JaggaerConnectionForm
    secret_fields = JAGGAER_SECRET_FIELDS
    token_owner = "jaggaer"
    list_display = ["name", "base_url", "transport", "xml_identity", "last_test_ok", "last_tested_at"]
    list_filter = ["transport", "last_test_ok"]
    readonly_fields = ["stored_secrets", "last_tested_at", "last_test_ok", "last_test_result"]


@admin.register(ConnectionPair)
class ConnectionPairAdmin(admin.ModelAdmin):
    list_display = ["__str__", "netsuite", "jaggaer"]
    list_select_related = ["netsuite", "jaggaer"]
