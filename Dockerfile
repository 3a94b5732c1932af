# The console's image. BASE is a Debian image with Python 3.13 and its venv module: python:3.13-slim-bookworm
# by default; `make test-deploy` builds on a Debian 13 base made offline with mmdebstrap (tests/deploy_image.py).
# The build reaches no network: the wheels come from the build context's wheelhouse/, fetched beforehand with
#   pip download --require-hashes -r requirements.txt -d wheelhouse --only-binary=:all: --python-version 3.13 \
#       --implementation cp --platform manylinux2014_x86_64 $(printf -- '--platform manylinux_2_%s_x86_64 ' $(seq 17 36))
ARG BASE=python:3.13-slim-bookworm

FROM ${BASE} AS venv
COPY requirements.txt /tmp/requirements.txt
COPY wheelhouse/ /tmp/wheelhouse/
# Exactly the hashed lock, in a venv (a Debian base refuses system-wide pip installs, PEP 668).
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheelhouse --require-hashes \
        -r /tmp/requirements.txt \
 && /opt/venv/bin/pip uninstall -q -y pip

FROM ${BASE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CONSOLE_VAR_DIR=/var/lib/console PATH=/opt/venv/bin:$PATH
# The console runs as `console` (uid 10001); the services that need the Docker socket are given the
# socket's group with `group_add` (docker-compose.yml's DOCKER_GID), not root.
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /var/lib/console console
COPY --from=venv /opt/venv /opt/venv
WORKDIR /app
COPY manage.py ./
COPY console ./console
COPY templates ./templates
COPY static ./static
RUN mkdir -p /var/lib/console \
 && SECRET_KEY=build python manage.py collectstatic --noinput -v 0 \
 && chown console:console /var/lib/console
USER console
EXPOSE 8000
CMD ["python", "-m", "console.web", "--host", "0.0.0.0", "--port", "8000", "--workers", "3", "--no-proxy-headers", "--no-server-header"]
