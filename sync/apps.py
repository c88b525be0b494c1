from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Sync"

    def ready(self) -> None:
        from sync.engine import releases  # noqa: F401 - listens to the mappings app's coding_available
