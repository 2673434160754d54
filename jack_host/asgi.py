"""For ``uvicorn jack_host.asgi:app``; ``jack serve`` is the usual way to start (it also migrates)."""

from jack_host.web.app import create_app

app = create_app()
