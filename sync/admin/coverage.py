"""The mapping coverage page (admin, Mappings, "coverage: unmapped codes"): codes that hold records back,
with how many each blocks, then active codes with no mapping row yet. It counts sync records, so it lives
on the sync side, beside the dashboard that uses the same query (sync/engine/blocking.py)."""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from mappings.admin import ReadOnlyAdmin
from mappings.coverage import CoverageRow, unmapped_codes
from mappings.models import UnmappedCode
from sync.engine.blocking import coverage_of_blocking_codes


@admin.register(UnmappedCode)
class CoverageAdmin(ReadOnlyAdmin):
    """Shown in the admin index as the entry to the coverage page; whoever may see mappings may see it."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("mappings.view_codingmapping")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        blocking = coverage_of_blocking_codes()
        add_url = reverse("admin:mappings_codingmapping_add")

        def with_links(rows: list[CoverageRow]) -> list[dict[str, Any]]:
            return [
                {
                    "row": row,
                    "add_url": f"{add_url}?{urlencode({'pair': row.pair.pk, 'kind': row.kind, 'netsuite_id': row.netsuite_id})}",
                    "change_url": reverse("admin:mappings_codingmapping_change", args=[row.mapping_id])
                    if row.mapping_id
                    else None,
                }
                for row in rows
            ]

        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Mapping coverage",
            "blocking": with_links(blocking),
            "unmapped": with_links(unmapped_codes(exclude=blocking)),
            "can_add": request.user.has_perm("mappings.add_codingmapping"),
        }
        return TemplateResponse(request, "mappings/coverage.html", context)
