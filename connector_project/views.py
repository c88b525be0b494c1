"""Endpoints of the deployment itself rather than of an app."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from connector_project.health import check_health


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers: 503 when the database or the broker fails; with ?strict=1 also when no worker
    reported recently (the plain answer is then 200 with status "degraded": the admin and webhooks still work)."""
    report = check_health()
    return JsonResponse(report.as_json(), status=report.http_status(strict=request.GET.get("strict") == "1"))
