"""The admin finance staff use to maintain mappings: the mapping rows (with history, CSV import/export and
warnings about JAGGAER values), the NetSuite codes (what is unmapped, bulk "map by same number"), the
JAGGAER values and the per-pair rule. The coverage page counts waiting records, so the sync app serves it
(sync/admin/coverage.py)."""

import io
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from credentials.models import ConnectionPair, JaggaerConnection
from mappings.csv_files import (
    MappingImportError,
    export_mapping_template,
    export_mappings_csv,
    import_mappings_csv,
)
from mappings.identity import confirm_proposals, map_by_same_number
from mappings.models import (
    CodingMapping,
    JaggaerField,
    JaggaerValue,
    NetSuiteReference,
    PairCodingRule,
)
from mappings.references import ReferenceIndex, dimension_fields_of
from mappings.validation import MappingRowChecker

# Datalists beyond this size slow the form more than they help; finance then types the id.
DATALIST_LIMIT = 5000


class DatalistInput(forms.TextInput):
    """A text box that suggests known codes with their names, and still accepts one that is not listed yet
    (finance may map a JAGGAER value before it exists)."""

    def __init__(self, options: Callable[[], Iterable[tuple[str, str]]], attrs: dict[str, Any] | None = None):
        super().__init__(attrs)
        self.options = options

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        list_id = f"{(attrs or {}).get('id', name)}_suggestions"
        html = super().render(name, value, {**(attrs or {}), "list": list_id, "autocomplete": "off"}, renderer)
        options = list(self.options())
        current = dict(options).get(str(value or ""), "")
        return html + format_html(
            ' <span class="datalist-current">{}</span><datalist id="{}">{}</datalist>',
            current,
            list_id,
            format_html_join("", '<option value="{}">{}</option>', options),
        )


def _netsuite_suggestions(pair: ConnectionPair | None = None, kind: str = "") -> list[tuple[str, str]]:
    """NetSuite codes to suggest: of the chosen pair and kind when the form knows them. Internal ids repeat across
    kinds (class 2 and subsidiary 2), so codes of another kind would put a wrong name beside the id."""
    codes = NetSuiteReference.objects.select_related("reference_list").order_by("reference_list__kind", "number")
    if pair is not None:
        codes = codes.filter(reference_list__connection_id=pair.netsuite_id)
    if kind:
        codes = codes.filter(reference_list__kind=kind)
    return [(code.netsuite_id, str(code)) for code in codes[:DATALIST_LIMIT]]


def _jaggaer_suggestions(pair: ConnectionPair | None = None, kind: str = "") -> list[tuple[str, str]]:
    """Active JAGGAER values to suggest: of the custom field the chosen kind maps to, when the form knows it."""
    values = JaggaerValue.objects.filter(active=True).select_related("field").order_by("field__name", "internal_name")
    if pair is not None:
        values = values.filter(field__connection_id=pair.jaggaer_id)
        if kind:
            values = values.filter(field__name=dimension_fields_of(pair.jaggaer).get(kind, ""))
    return [(value.internal_name, f"{value.field.name}: {value.description}") for value in values[:DATALIST_LIMIT]]


class MappingForm(forms.ModelForm):
    class Meta:
        model = CodingMapping
        fields = ["pair", "kind", "netsuite_id", "jaggaer_value", "valid_from", "valid_to", "status"]
        widgets = {
            "netsuite_id": DatalistInput(_netsuite_suggestions),
            "jaggaer_value": DatalistInput(_jaggaer_suggestions),
        }

    warning: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The pair and kind the form is about (posted, prefilled by "Map it", or the row's own) narrow the
        # suggestions; widgets are the form's own copies, so this touches no other form.
        pair_id = str(self.data.get("pair") or self.initial.get("pair") or self.instance.pair_id or "")
        kind = str(self.data.get("kind") or self.initial.get("kind") or self.instance.kind or "")
        pair = ConnectionPair.objects.select_related("jaggaer").filter(pk=pair_id).first() if pair_id.isdigit() else None
        self.fields["netsuite_id"].widget.options = lambda: _netsuite_suggestions(pair, kind)
        self.fields["jaggaer_value"].widget.options = lambda: _jaggaer_suggestions(pair, kind)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        pair = cleaned.get("pair")
        if pair is None or any(name in self.errors for name in ("kind", "netsuite_id", "jaggaer_value")):
            return cleaned
        row = CodingMapping(
            pk=self.instance.pk,
            pair=pair,
            kind=cleaned["kind"],
            netsuite_id=cleaned["netsuite_id"],
            jaggaer_value=cleaned["jaggaer_value"],
            valid_from=cleaned.get("valid_from"),
            valid_to=cleaned.get("valid_to"),
        )
        checker = MappingRowChecker(
            references=ReferenceIndex(
                pair=pair,
                dimension_fields=dimension_fields_of(pair.jaggaer),
                netsuite_ids=[row.netsuite_id],
                jaggaer_values=[row.jaggaer_value],
            )
        )
        for field, message in checker.problems(row):
            self.add_error(field, message)
        proposed = CodingMapping.Status.PROPOSED
        if self.instance.status == proposed and "jaggaer_value" in self.changed_data and cleaned.get("status") == proposed:
            # A person who changes the value the flow proposed has decided on it: that is the confirmation.
            cleaned["status"] = self.instance.status = CodingMapping.Status.CONFIRMED
        same_code = CodingMapping.objects.filter(pair=pair, kind=row.kind, netsuite_id=row.netsuite_id)
        if cleaned.get("status") == CodingMapping.Status.CONFIRMED:
            same_code = same_code.exclude(status=CodingMapping.Status.PROPOSED)  # superseded on save
        overlap = checker.overlap_problem(row, same_code)
        if overlap is not None:
            self.add_error(None, overlap)
        self.warning = checker.warning(row)
        return cleaned


def _annotate_with_references(rows: Iterable[CodingMapping]) -> None:
    """Sets `netsuite_label` and `problem` on each row, loading each pair's references for these codes only."""
    by_pair: dict[int, list[CodingMapping]] = {}
    for row in rows:
        by_pair.setdefault(row.pair_id, []).append(row)
    for pair in ConnectionPair.objects.filter(pk__in=by_pair).select_related("jaggaer"):
        pair_rows = by_pair[pair.pk]
        references = ReferenceIndex(
            pair=pair,
            dimension_fields=dimension_fields_of(pair.jaggaer),
            netsuite_ids={row.netsuite_id for row in pair_rows},
            jaggaer_values={row.jaggaer_value for row in pair_rows},
        )
        for row in pair_rows:
            row.netsuite_label = references.describe(row.kind, row.netsuite_id)
            code = references.netsuite_code(row.kind, row.netsuite_id)
            problems = [references.jaggaer_problem(row.kind, row.jaggaer_value)]
            if code is not None and code.inactive:
                problems.append("the NetSuite code is inactive")
            row.problem = "; ".join(problem for problem in problems if problem)


class InactiveEitherSideFilter(admin.SimpleListFilter):
    title = "inactive on either side"
    parameter_name = "inactive"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("netsuite", "NetSuite code inactive"),
            ("jaggaer", "JAGGAER value inactive or missing"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[CodingMapping]) -> QuerySet[CodingMapping]:
        if self.value() == "netsuite":
            return queryset.filter(
                Exists(
                    NetSuiteReference.objects.filter(
                        reference_list__connection=OuterRef("pair__netsuite"),
                        reference_list__kind=OuterRef("kind"),
                        netsuite_id=OuterRef("netsuite_id"),
                        inactive=True,
                    )
                )
            )
        if self.value() == "jaggaer":
            return queryset.filter(_jaggaer_refuses_value())
        return queryset


def _jaggaer_refuses_value() -> Q:
    """Rows whose value is not active in the last refresh of their kind's JAGGAER field; the field of a kind is
    configured per connection, so the condition is built per connection and kind."""
    loaded = set(JaggaerField.objects.filter(values_refreshed_at__isnull=False).values_list("connection", "name"))
    condition = Q(pk__in=[])
    for connection in JaggaerConnection.objects.all():
        for kind, field in dimension_fields_of(connection).items():
            if (connection.pk, field) not in loaded:
                continue
            active_value = JaggaerValue.objects.filter(
                field__connection=connection, field__name=field, internal_name=OuterRef("jaggaer_value"), active=True
            )
            condition |= Q(pair__jaggaer=connection, kind=kind) & ~Exists(active_value)
    return condition


class CsvForm(forms.Form):
    pair = forms.ModelChoiceField(queryset=ConnectionPair.objects.select_related("netsuite", "jaggaer"))
    file = forms.FileField(
        required=False,
        help_text="kind,netsuite_id,jaggaer_value[,netsuite_number,netsuite_name,valid_from,valid_to]",
    )
    replace = forms.BooleanField(
        required=False, help_text="Also delete the rows of codes that are not in the file."
    )


@admin.register(CodingMapping)
class CodingMappingAdmin(SimpleHistoryAdmin):
    form = MappingForm
    list_display = ["netsuite_code", "jaggaer_value", "status", "valid_from", "valid_to", "warning", "pair"]
    list_filter = ["kind", "status", InactiveEitherSideFilter, "pair"]
    list_select_related = ["pair__netsuite", "pair__jaggaer"]
    search_fields = ["netsuite_id", "jaggaer_value"]
    search_help_text = "NetSuite number, name or internal id, or JAGGAER value"
    readonly_fields = ["warning", "created_by"]
    actions = ["confirm_selected_proposals"]
    history_list_display = ["jaggaer_value", "status", "valid_from", "valid_to"]
    change_list_template = "admin/mappings/codingmapping/change_list.html"

    @admin.display(description="NetSuite code", ordering="netsuite_id")
    def netsuite_code(self, obj: CodingMapping) -> str:
        if not hasattr(obj, "netsuite_label"):
            _annotate_with_references([obj])
        return obj.netsuite_label

    @admin.display(description="warning")
    def warning(self, obj: CodingMapping) -> str:
        if obj.pk is None:
            return "-"
        if not hasattr(obj, "problem"):
            _annotate_with_references([obj])
        if not obj.problem:
            return "-"
        return format_html(
            '<span class="mapping-warning" style="color:#ba2121" title="{}">⚠ {}</span>',
            "Records coded with this mapping wait until this is fixed (as of the last reference refresh).",
            obj.problem,
        )

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        _annotate_with_references(changelist.result_list)
        return changelist

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[CodingMapping], search_term: str
    ) -> tuple[QuerySet[CodingMapping], bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            named = NetSuiteReference.objects.filter(
                Q(number__icontains=term) | Q(name__icontains=term) | Q(fullname__icontains=term),
                reference_list__connection=OuterRef("pair__netsuite"),
                reference_list__kind=OuterRef("kind"),
                netsuite_id=OuterRef("netsuite_id"),
            )
            found = found | queryset.filter(Exists(named))
        return found, may_have_duplicates

    def save_model(self, request: HttpRequest, obj: CodingMapping, form: MappingForm, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if form.warning:
            self.message_user(request, f"Saved with a warning: {form.warning}", messages.WARNING)
        if obj.status == CodingMapping.Status.PROPOSED:
            self.message_user(request, "Saved as a proposal: nothing uses this mapping and no held record goes out "
                              "until its status is Confirmed.", messages.WARNING)
        for sentence in getattr(obj, "announced", []):
            self.message_user(request, sentence)

    @admin.action(description="Confirm selected proposals", permissions=["change"])
    def confirm_selected_proposals(self, request: HttpRequest, queryset: QuerySet[CodingMapping]) -> None:
        confirmed = confirm_proposals(mappings=queryset.select_related("pair"), acting_user=request.user)
        self.message_user(request, f"{confirmed} proposals confirmed.")

    def get_urls(self) -> list[Any]:
        return [
            path("csv/", self.admin_site.admin_view(self.csv_view), name="mappings_codingmapping_csv"),
            *super().get_urls(),
        ]

    def csv_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = CsvForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            pair = form.cleaned_data["pair"]
            if "export" in request.POST:
                return self._download(pair, "mappings", export_mappings_csv)
            if "template" in request.POST:
                return self._download(pair, "mapping-template", export_mapping_template)
            if not (self.has_add_permission(request) and self.has_change_permission(request)) or (
                form.cleaned_data["replace"] and not self.has_delete_permission(request)
            ):
                raise PermissionDenied
            upload = form.cleaned_data["file"]
            if upload is None:
                form.add_error("file", "Choose a CSV file to import.")
            else:
                try:
                    text = upload.read().decode("utf-8-sig")
                    outcome = import_mappings_csv(
                        pair=pair,
                        source=io.StringIO(text, newline=""),
                        replace=form.cleaned_data["replace"],
                        acting_user=request.user,
                    )
                except UnicodeDecodeError:
                    form.add_error("file", "The file is not UTF-8 text.")
                except MappingImportError as error:
                    for problem in error.problems:
                        form.add_error("file", problem)
                else:
                    self.message_user(request, f"Imported {upload.name}: {outcome}.")
                    return HttpResponseRedirect(reverse("admin:mappings_codingmapping_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import or export mappings as CSV",
            "form": form,
        }
        return TemplateResponse(request, "mappings/csv.html", context)

    @staticmethod
    def _download(pair: ConnectionPair, what: str, write: Callable[..., int]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{what}-{pair.netsuite.name}-{pair.jaggaer.name}.csv"'
        write(pair=pair, out=response)
        return response


class MappedFilter(admin.SimpleListFilter):
    title = "mapping"
    parameter_name = "mapping"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("unmapped", "Unmapped"), ("proposed", "Proposed only"), ("mapped", "Mapped")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[NetSuiteReference]) -> QuerySet[NetSuiteReference]:
        rows = CodingMapping.objects.filter(
            pair__netsuite=OuterRef("reference_list__connection"),
            kind=OuterRef("reference_list__kind"),
            netsuite_id=OuterRef("netsuite_id"),
        )
        confirmed = Exists(rows.filter(status=CodingMapping.Status.CONFIRMED))
        if self.value() == "unmapped":
            return queryset.exclude(Exists(rows))
        if self.value() == "proposed":
            return queryset.filter(Exists(rows)).exclude(confirmed)
        if self.value() == "mapped":
            return queryset.filter(confirmed)
        return queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """Reference lists mirror NetSuite and JAGGAER: they change by a refresh, never by hand; the coverage
    page is computed."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(NetSuiteReference)
class NetSuiteReferenceAdmin(ReadOnlyAdmin):
    list_display = ["number", "name", "kind", "netsuite_id", "account_type", "inactive", "connection", "refreshed"]
    list_filter = [MappedFilter, "inactive", "reference_list__kind", "reference_list__connection"]
    list_select_related = ["reference_list__connection"]
    search_fields = ["number", "name", "fullname", "=netsuite_id"]
    search_help_text = "Number, name or internal id"
    actions = ["map_selected_by_same_number"]

    @admin.display(description="kind", ordering="reference_list__kind")
    def kind(self, obj: NetSuiteReference) -> str:
        return obj.reference_list.get_kind_display()

    @admin.display(description="connection")
    def connection(self, obj: NetSuiteReference) -> str:
        return str(obj.reference_list.connection)

    @admin.display(description="list refreshed")
    def refreshed(self, obj: NetSuiteReference) -> Any:
        return obj.reference_list.refreshed_at

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # The action writes mappings: offer it to whoever may add them, although these rows are read-only.
        actions = super().get_actions(request)
        if not request.user.has_perm("mappings.add_codingmapping"):
            actions.pop("map_selected_by_same_number", None)
        return actions

    @admin.action(description="Map by same number (to the identical active JAGGAER value)")
    def map_selected_by_same_number(self, request: HttpRequest, queryset: QuerySet[NetSuiteReference]) -> None:
        if not request.user.has_perm("mappings.add_codingmapping"):
            raise PermissionDenied
        codes_by_connection: dict[int, list[tuple[str, str]]] = {}
        for code in queryset.select_related("reference_list"):
            codes_by_connection.setdefault(code.reference_list.connection_id, []).append(
                (code.reference_list.kind, code.netsuite_id)
            )
        pairs = ConnectionPair.objects.filter(netsuite__in=codes_by_connection).select_related("netsuite", "jaggaer")
        for pair in pairs:
            outcome = map_by_same_number(
                pair=pair, codes=codes_by_connection[pair.netsuite_id], acting_user=request.user
            )
            self.message_user(
                request,
                f"{pair}: {outcome.mapped} mapped, {outcome.already_mapped} already had a mapping row, "
                f"{outcome.no_identical_value} have no identical active JAGGAER value.",
                messages.SUCCESS if outcome.mapped else messages.WARNING,
            )


@admin.register(JaggaerValue)
class JaggaerValueAdmin(ReadOnlyAdmin):
    list_display = ["internal_name", "description", "field", "active", "refreshed"]
    list_filter = ["active", "field__name", "field__connection"]
    list_select_related = ["field__connection"]
    search_fields = ["internal_name", "value", "description"]

    @admin.display(description="values refreshed")
    def refreshed(self, obj: JaggaerValue) -> Any:
        return obj.field.values_refreshed_at


@admin.register(PairCodingRule)
class PairCodingRuleAdmin(SimpleHistoryAdmin):
    list_display = ["pair", "rule"]
    list_select_related = ["pair__netsuite", "pair__jaggaer"]
