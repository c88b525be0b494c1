"""What people run and read: replay, backfill, reconcile, status, the dashboard, alerts, retention."""
