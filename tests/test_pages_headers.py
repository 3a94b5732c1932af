"""Security headers, the Content Security Policy, and Django's deployment checks."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.hardening

ROOT = Path(__file__).resolve().parent.parent


def test_pages_carry_a_strict_content_security_policy_with_a_nonce(viewer_client):
    response = viewer_client.get("/")
    csp = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "script-src 'self' 'nonce-" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    page = response.content.decode()
    # every script the page loads carries this response's nonce; none is inline
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all(f'nonce="{nonce}"' in tag and "src=" in tag for tag in scripts)
    assert " style=" not in page and "hx-on" not in page
    # htmx is told not to eval and not to inject its own styles
    assert '"allowEval": false' in page and '"includeIndicatorStyles": false' in page
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_the_production_settings_pass_djangos_deployment_checks():
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_urlsafe(60),
        "SECURE_COOKIES": "true",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "ALLOWED_HOSTS": "console.example.com",
        "DEBUG": "false",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests; production never has it
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # and the same checks do fail for a careless configuration
    careless = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**env, "SECURE_COOKIES": "false", "DEBUG": "true"},
        capture_output=True,
        text=True,
    )
    assert careless.returncode != 0


def test_celery_accepts_json_messages_only():
    from console.celery import app

    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.worker_prefetch_multiplier == 1 and app.conf.task_acks_late
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit
