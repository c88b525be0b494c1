"""Who may do what: Finance manages mappings, reads sync records and replays them, but never sees
connections; Integration admin manages everything the connector owns."""


from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

FINANCE = "Finance"
INTEGRATION_ADMIN = "Integration admin"

INTEGRATION_ADMIN_APPS = ("credentials", "mappings", "sync", "django_q")


def grant_group_permissions(*, using: str = "default") -> None:
    """Gives both groups their permissions on every model that exists now. Run after each migrate,
    so that models added later are covered without another data migration."""
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    permissions = Permission.objects.using(using)
    finance, _ = Group.objects.using(using).get_or_create(name=FINANCE)
    finance.permissions.add(
        *permissions.filter(content_type__app_label="mappings"),
        *permissions.filter(content_type__app_label="sync", codename__startswith="view_"),
        *permissions.filter(content_type__app_label="sync", codename="replay_syncrecord"),
    )
    finance.permissions.remove(*permissions.filter(content_type__app_label="credentials"))
    admins, _ = Group.objects.using(using).get_or_create(name=INTEGRATION_ADMIN)
    admins.permissions.add(*permissions.filter(content_type__app_label__in=INTEGRATION_ADMIN_APPS))

