"""gunicorn's settings for Vision Workbench, read from the working directory by `gunicorn wsgi:app`.

The app is loaded once in the master process and the workers are forked from it (`preload_app`):
its modules, mappers and templates (~55 MiB) are then shared by the workers, page for page, instead
of built again in each. wsgi.py freezes those objects (`gc.freeze()`), so the collector never
writes to their pages and they stay shared. Workers, bind address and the rest stay on the command
line (see the README).
"""

preload_app = True


def post_fork(server, worker):  # noqa: ANN001, ARG001 - gunicorn's hook signature
    """No database connection may be used by two processes: a worker starts with an empty pool
    (the master opens none today; this keeps it so if start-up ever reads the database)."""
    from workbench.extensions import db

    with worker.app.wsgi().app_context():  # the app the master loaded
        db.engine.dispose(close=False)
