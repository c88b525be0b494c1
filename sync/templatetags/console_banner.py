"""The banner of every console page (templates/admin/base_site.html): what is wrong with the connector now."""

from django import template

from sync.operations.alerts import console_warnings

register = template.Library()


@register.inclusion_tag("sync/console_banner.html", takes_context=True)
def console_banner(context: template.Context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    # Not on the login page, and not for staff who cannot see the sync at all.
    if user is None or not user.is_active or not user.is_staff or not user.has_perm("sync.view_syncrecord"):
        return {"warnings": []}
    return {"warnings": [(warning, not warning.permission or user.has_perm(warning.permission))
                         for warning in console_warnings()]}
