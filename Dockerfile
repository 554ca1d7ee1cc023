# syntax=docker/dockerfile:1
# One image for all four Tovholder services; the command picks the service:
#   tovholder serve <referrals|plans|health|notifications>   (HTTP on $TOVHOLDER_PORT, default 8080)
#   tovholder migrate <service>                              (Alembic migrations; the migration Job)
# Build: docker build -t ghcr.io/tovholder/tovholder:<version> .
# Python 3.11 = the version the test suite runs on; Debian 13 (trixie) for the longest security support.
ARG PYTHON_IMAGE=python:3.11-slim-trixie

# --- build: resolve and install everything into a self-contained virtualenv ---------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/tovholder
ENV PATH=/opt/tovholder/bin:$PATH
WORKDIR /src
# Dependencies first (their own layer, rebuilt only when pyproject.toml changes) ...
COPY pyproject.toml README.md* ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt
# ... then the application itself.
COPY contracts ./contracts
COPY tovholder ./tovholder
COPY services ./services
RUN pip install --no-deps . \
 && python -m compileall -q /opt/tovholder

# --- runtime: the virtualenv on a clean slim base, no build tools, not root ---------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="tovholder" \
      org.opencontainers.image.description="Tovholder services (referrals, plans, health, notifications)" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 tovholder \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin tovholder
COPY --from=build /opt/tovholder /opt/tovholder
ENV PATH=/opt/tovholder/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TOVHOLDER_PORT=8080
WORKDIR /tmp
# Numeric uid:gid so Kubernetes can verify runAsNonRoot without resolving names.
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["tovholder"]
CMD ["--help"]
