"""Monitoring: `/healthz` and `/metrics` (Prometheus) on a small HTTP server of the bot's own, `policybot
backup`, `policybot restore` and `policybot doctor`.

It imports the store, the catalog, config and the shared base; the figures owned by other packages (the
outbox, the catalog history) reach it as functions wired in tg/app.py.

Other packages import only the names in `__all__`, from the package itself (tests/test_layout.py).
"""

from bot.monitoring.backup import backup_database
from bot.monitoring.database import DatabaseHealth, is_database_unavailable
from bot.monitoring.doctor import check_installation
from bot.monitoring.metrics import Metrics
from bot.monitoring.restore import RestoreError, RestoreResult, RunLock, hold_run_lock, restore_database
from bot.monitoring.server import HealthCheck, MonitoringServer, Route, parse_listen
from bot.monitoring.updates import UpdatesWatch

__all__ = [
    "DatabaseHealth",
    "HealthCheck",
    "Metrics",
    "MonitoringServer",
    "RestoreError",
    "RestoreResult",
    "Route",
    "RunLock",
    "UpdatesWatch",
    "backup_database",
    "check_installation",
    "hold_run_lock",
    "is_database_unavailable",
    "parse_listen",
    "restore_database",
]
