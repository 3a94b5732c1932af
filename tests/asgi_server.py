"""The console's ASGI application (pages and WebSockets) served by uvicorn on a thread of the test process, on the
test database, as `make run` serves it; and a Chromium tab on it."""

from __future__ import annotations

import threading

import pytest
import uvicorn

from tests.lab import free_port, wait_for


@pytest.fixture
def asgi_server(transactional_db, settings):
    """The address of a running console (uvicorn), for browsers and WebSocket clients."""
    # The live server serves static files through the finders, which know no hashed (manifest) names.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from console.asgi import application

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, lifespan="off", log_level="warning", proxy_headers=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, "uvicorn", timeout=30)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def asgi_page(chromium, asgi_server):
    """A fresh browser tab (1280 px wide) on the ASGI console; `page.base` is its address."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=asgi_server)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base = asgi_server
    yield page
    context.close()
