"""Health and metrics: `/healthz` and `/metrics` (Prometheus) on a small HTTP server of the bot's own."""
