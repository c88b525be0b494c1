"""The demo's admin: Django's development server (`runserver`, no reloader) on the address given, without the
request lines of the static files it serves. Each admin page pulls a dozen stylesheets, scripts and icons, whose
lines would push the demo's "Look here" lines and the requests that matter off the terminal; a static file that
is missing or fails (4xx, 5xx) is still logged.

Usage (from scripts/demo): python scripts/demo_admin.py 127.0.0.1:8000
"""

import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def served_static_file(record: logging.LogRecord) -> bool:
    """Whether a `django.server` record is the request line of a static file answered without error.

    The dev server logs `'"%s" %s %s' % (request line, status, size)`, at INFO below status 400."""
    from django.conf import settings

    request_line = str(record.args[0]).split(" ") if isinstance(record.args, tuple) and record.args else []
    return record.levelno == logging.INFO and len(request_line) > 1 and request_line[1].startswith(settings.STATIC_URL)


def main(address: str) -> None:
    sys.path.insert(0, str(ROOT))  # the project's packages, as manage.py (run from ROOT) finds them
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connector_project.settings")
    import django
    from django.core.management import call_command

    django.setup()
    logging.getLogger("django.server").addFilter(lambda record: not served_static_file(record))
    call_command("runserver", address, use_reloader=False)


if __name__ == "__main__":
    main(sys.argv[1])
