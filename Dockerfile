# syntax=docker/dockerfile:1
# One image for every role. The entry point is `xerotier`; the arguments pick the role:
#   serve | worker <service>… | agent | operator | reconciler | db upgrade
# Build stage: build the wheel and install it with its dependencies (pinned by constraints.txt, the same
# versions `make` installs) into a virtual environment.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/build && /opt/build/bin/pip install "build>=1.2" \
 && python -m venv /opt/xerotier
COPY pyproject.toml README.md constraints.txt ./
COPY shared ./shared
COPY services ./services
RUN /opt/build/bin/python -m build --wheel --outdir /wheels . \
 && /opt/xerotier/bin/pip install --constraint constraints.txt /wheels/*.whl \
 && /opt/xerotier/bin/python -c "import xerotier.gateway.app, xerotier.cli.server"

# Final stage: the interpreter, the virtual environment, a non-root user; no compiler, no build tools.
FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/xerotier/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    XEROTIER_HOST=0.0.0.0 XEROTIER_LOG_FORMAT=json XEROTIER_BLOB_DIR=/var/lib/xerotier/blobs \
    XEROTIER_DATA_DIR=/var/lib/xerotier
RUN groupadd --system --gid 10001 xerotier \
 && useradd --system --uid 10001 --gid xerotier --home-dir /var/lib/xerotier --shell /usr/sbin/nologin xerotier \
 && mkdir -p /var/lib/xerotier/blobs && chown -R 10001:10001 /var/lib/xerotier
COPY --from=build /opt/xerotier /opt/xerotier
USER 10001:10001
WORKDIR /var/lib/xerotier
EXPOSE 8000 9100
ENTRYPOINT ["xerotier"]
CMD ["serve"]
