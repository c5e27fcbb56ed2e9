"""gunicorn's settings for Vision Workbench, read from the working directory by `gunicorn wsgi:app`.

The app is loaded once in the master process and the workers are forked from it (`preload_app`):
its modules, mappers and templates (~55 MiB) are then shared by the workers, page for page, instead
of built again in each. wsgi.py freezes those objects (`gc.freeze()`), so the collector never
writes to their pages and they stay shared. Workers, bind address and the rest stay on the command
line (see the README).
"""

preload_app = True


def on_starting(server):  # noqa: ANN001 - gunicorn's hook signature
    """Refuse to serve with rate limits counted per worker: with memory storage each worker counts
    alone, so every limit would be multiplied by the number of workers (WORKBENCH_RATELIMIT_STORAGE_URI
    must name a shared store, such as redis://127.0.0.1:6379, when there is more than one)."""
    from workbench.limits import counted_alone

    app = server.app.wsgi()  # loaded already (preload_app)
    problem = counted_alone(app.config, server.cfg.workers)
    if problem:
        server.log.error(problem)
        raise SystemExit(problem)


def post_fork(server, worker):  # noqa: ANN001, ARG001 - gunicorn's hook signature
    """No database connection may be used by two processes: a worker starts with an empty pool
    (the master opens none today; this keeps it so if start-up ever reads the database)."""
    from workbench.extensions import db

    with worker.app.wsgi().app_context():  # the app the master loaded
        db.engine.dispose(close=False)
