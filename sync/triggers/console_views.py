"""The dashboard and reconciliation pages of the operator's console (inside the admin's look and login)."""

from datetime import date, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from credentials.errors import ConnectionFailed
from credentials.models import ConnectionPair
from sync.engine.run import refresh_reference_lists
from sync.models import Flow, SyncRecord
from sync.operations.dashboard import flow_panels, stuck_groups
from sync.operations.reconcile import RECONCILED_FLOWS, ReconcileError, reconcile
from sync.remote.errors import RemoteError


def _context(request: HttpRequest, title: str) -> dict:
    if not request.user.has_perm("sync.view_syncrecord"):
        raise PermissionDenied
    return {**admin.site.each_context(request), "title": title, "opts": SyncRecord._meta}


def dashboard(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "sync/dashboard.html", {
        **_context(request, "Sync dashboard"),
        "panels": flow_panels(),
        "stuck": stuck_groups(),
        "can_change_mappings": request.user.has_perm("mappings.add_codingmapping"),
    })


def reconciliation(request: HttpRequest) -> HttpResponse:
    context = _context(request, "Reconciliation")
    pairs = list(ConnectionPair.objects.select_related("netsuite", "jaggaer").order_by("pk"))
    flow = request.GET.get("flow", RECONCILED_FLOWS[0])
    day_text = request.GET.get("day") or (timezone.localdate() - timedelta(days=1)).isoformat()
    chosen_pair = next((p for p in pairs if str(p.pk) == request.GET.get("pair")), pairs[0] if pairs else None)
    context.update(pairs=pairs, chosen_pair=chosen_pair, flow=flow, day=day_text,
                   flows=[(value, label) for value, label in Flow.choices if value in RECONCILED_FLOWS])
    if "day" in request.GET and chosen_pair is not None:
        try:
            context["result"] = reconcile(pair=chosen_pair, flow=flow, day=date.fromisoformat(day_text))
        except ValueError as exc:  # ReconcileError or a malformed day
            context["error"] = str(exc) if isinstance(exc, ReconcileError) else f"Not a day: {day_text!r} (YYYY-MM-DD)"
        except RemoteError as exc:
            context["error"] = f"Could not read both sides: {exc}"
    return TemplateResponse(request, "sync/reconciliation.html", context)


@require_POST
def refresh_references(request: HttpRequest) -> HttpResponse:
    """The mapping list's "Refresh reference lists" button."""
    if not request.user.has_perm("mappings.change_codingmapping"):
        raise PermissionDenied
    for pair in ConnectionPair.objects.select_related("netsuite", "jaggaer"):
        try:
            outcomes = refresh_reference_lists(pair=pair)
        except (RemoteError, ConnectionFailed) as exc:
            messages.error(request, f"{pair}: the reference lists could not be read: {exc}")
            continue
        read = ", ".join(f"{outcome.pulled.read if outcome.pulled else 0} {Flow(outcome.flow).label.lower()}"
                         for outcome in outcomes)
        messages.success(request, f"{pair}: read {read} from NetSuite and the values of JAGGAER's custom fields.")
    return HttpResponseRedirect(reverse("admin:mappings_codingmapping_changelist"))
