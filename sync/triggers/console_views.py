"""The dashboard and reconciliation pages of the operator's console (inside the admin's look and login)."""

from datetime import date, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from credentials.errors import ConnectionFailed
from credentials.models import ConnectionPair
from sync.engine.run import refresh_reference_lists
from sync.models import Flow, GroupReplay, SyncRecord
from sync.operations.dashboard import flow_panels
from sync.operations.error_groups import error_groups, records_in
from sync.operations.group_replay import ReplayRefused, progress_words, queue_group_replay
from sync.operations.reconcile import RECONCILED_FLOWS, ReconcileError, reconcile
from sync.operations.resolve import mark_resolved
from sync.remote.errors import RemoteError

# Replaying and marking resolved: finance's daily work (the Finance group has it).
REPLAY_PERMISSION = "sync.replay_syncrecord"
# Finished replays stay on the dashboard this long, so that their outcome is read.
RECENT_REPLAYS = timedelta(days=1)


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _context(request: HttpRequest, title: str) -> dict:
    _require(request, "sync.view_syncrecord")
    return {**admin.site.each_context(request), "title": title, "opts": SyncRecord._meta}


def dashboard(request: HttpRequest) -> HttpResponse:
    context = _context(request, "Sync dashboard")
    replays = list(GroupReplay.objects.filter(
        Q(status__in=GroupReplay.UNFINISHED) | Q(requested_at__gte=timezone.now() - RECENT_REPLAYS))[:10])
    replaying = {replay.group_key: replay for replay in replays if replay.status in GroupReplay.UNFINISHED}
    user = request.user
    return TemplateResponse(request, "sync/dashboard.html", {
        **context,
        "panels": flow_panels(),
        "groups": [{"group": group, "replay": replaying.get(group.key),
                    "can_fix": group.fix is not None and user.has_perm(group.fix.permission)}
                   for group in error_groups()],
        "several_pairs": ConnectionPair.objects.count() > 1,
        "replays": [(replay, progress_words(replay)) for replay in replays],
        "can_replay": user.has_perm(REPLAY_PERMISSION),
    })


@require_POST
def replay_group(request: HttpRequest) -> HttpResponse:
    """A group's "Replay all": queued for the worker; the dashboard shows its progress and outcome."""
    _require(request, REPLAY_PERMISSION)
    try:
        queued = queue_group_replay(key=request.POST.get("group", ""), actor=request.user.get_username())
    except ReplayRefused as refused:
        messages.warning(request, str(refused))
    else:
        messages.success(request, f"Replay of {queued.total} records queued: the worker sends them, and their "
                                  "progress and outcome show under Replays.")
    return HttpResponseRedirect(reverse("sync:dashboard") + "#replays")


def replay_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """What the dashboard polls while a replay runs."""
    _require(request, "sync.view_syncrecord")
    replay = get_object_or_404(GroupReplay, pk=pk)
    return JsonResponse({"status": replay.status, "done": replay.done, "total": replay.total,
                         "finished": replay.finished_at is not None, "text": progress_words(replay)})


@require_POST
def resolve_group(request: HttpRequest) -> HttpResponse:
    """A group's "Mark resolved", with the note kept in each record's state changes."""
    _require(request, REPLAY_PERMISSION)
    try:
        done = mark_resolved(records=records_in(request.POST.get("group", "")), actor=request.user.get_username(),
                             note=request.POST.get("note", ""))
    except ValueError as refused:
        messages.error(request, str(refused))
    else:
        busy = f"; {done.busy} being sent at that moment were left as they are" if done.busy else ""
        messages.success(request, f"Marked {done.resolved} record{'s' if done.resolved != 1 else ''} resolved{busy}.")
    return HttpResponseRedirect(reverse("sync:dashboard"))


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
    _require(request, "mappings.change_codingmapping")
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
