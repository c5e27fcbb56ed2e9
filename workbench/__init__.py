"""Vision Workbench: co-create long-term public visions in the open."""

from __future__ import annotations

import gc
from importlib import import_module
from typing import Any

from flask import Flask

from .config import ROOT, build_config
from .urls import CONVERTERS

# Each feature's routes are its `views.bp`, registered in this order.
FEATURES = ("visions", "history", "pages", "auth", "accounts", "proposals", "discussion", "facilitation", "drafting", "aligned", "notifications", "analysis", "participation", "webinars", "documents", "search", "involvement", "coding", "reporting", "responses")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Side-effect free: no database writes, no network."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(build_config(ROOT / "instance", config))
    app.url_map.converters.update(CONVERTERS)

    from . import assets, cli, compression, errors, security, worker
    from .database import init_database
    from .extensions import csrf, limiter, login_manager
    from .models import db

    security.init_app(app)  # first: its request checks run before anything reads the form
    compression.init_app(app)  # HTML pages gzipped: after every later hook that touches a response
    assets.init_app(app)  # static files (WhiteNoise) and `asset()` for templates
    init_database(app)
    if app.config["MIGRATIONS"]:
        # Alembic (~10 MiB a process) is for `flask db ...`; serving processes leave it out (wsgi.py).
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    for feature in FEATURES:
        app.register_blueprint(import_module(f".{feature}.views", __name__).bp)

    errors.init_app(app)
    cli.init_app(app)
    worker.init_app(app)
    from .templating import init_app as init_templating

    init_templating(app)
    return app


def ready_to_serve() -> None:
    """Call once in a process that will serve the app, after `create_app` (wsgi.py does).

    The objects made while importing and configuring the app (modules, mappers, metadata: about
    110,000) live as long as the process; `gc.freeze()` keeps them out of the collector's full
    passes, each of which otherwise walked them all (~40 ms: a pause on the busiest pages).
    """
    gc.freeze()
