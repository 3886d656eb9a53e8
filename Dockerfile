# policybot in a container: docker build -t policybot . && docker compose up (see README, "Run it in Docker").
FROM python:3.12-slim

# CJK fonts for the /fees chart's Chinese labels; curl-free: the HEALTHCHECK uses Python itself.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY policies ./policies
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin policybot \
    && mkdir -p /data \
    && chown policybot /data

# The database (and its WAL files) live on a volume; the config points store.path there.
COPY docker/config.toml /etc/policybot/config.toml
VOLUME ["/data"]
USER policybot
# /healthz and /metrics; the webhook port when webhook mode is configured.
EXPOSE 9090 8443

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9090/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["policybot"]
CMD ["run", "--config", "/etc/policybot/config.toml"]
