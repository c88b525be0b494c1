"""gunicorn's settings for scripts/serve (gunicorn reads ./gunicorn.conf.py by itself). BIND and
WEB_CONCURRENCY come from the environment; any other option can be changed without editing this file through
GUNICORN_CMD_ARGS, which wins over it (e.g. GUNICORN_CMD_ARGS="--timeout 300")."""

import os

# The TLS proxy runs on the same host by default; a proxy elsewhere needs e.g. BIND=0.0.0.0:8000.
bind = os.environ.get("BIND", "127.0.0.1:8000")
# gunicorn's advice of two per core plus one, capped: each worker is a whole Django process, and the traffic is
# a few operators and NetSuite's pushes (whose work is queued for qcluster, not done here).
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(2 * (os.cpu_count() or 1) + 1, 8))))
# The slowest pages call NetSuite or JAGGAER while the operator waits ("Test connection", refreshing the
# reference lists); a request still running after this long is killed and its worker replaced.
timeout = 120
graceful_timeout = 30
# Replaces workers now and then so that slow memory growth in a long-lived process never accumulates.
max_requests = 1000
max_requests_jitter = 100
# gunicorn 25.1+ opens a runtime-control socket at one path per user (~/.gunicorn/gunicorn.ctl), which a second
# gunicorn of that user would take over; nothing here uses it.
control_socket_disable = True
accesslog = "-"
# The path without its query string: NetSuite's consent callback carries an authorization code and state there.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
