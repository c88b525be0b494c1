from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """NetSuite and JAGGAER sandbox servers. Plain WSGI apps with no models: installed only so that
    `manage.py run_sandbox` exists."""

    name = "sandbox"
    verbose_name = "Sandbox servers"
