"""The two groups people are put in. Their permissions are granted after every migrate
(credentials.permissions), so that models added by later migrations are covered too."""

from django.db import migrations

GROUPS = ("Finance", "Integration admin")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("credentials", "0002_connection_settings"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
