"""Entry point for gunicorn and the flask command: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import click

from workbench import create_app, ready_to_serve

# Under the `flask` command (`flask --app wsgi db upgrade`) the app needs Flask-Migrate; a process
# that only serves requests (gunicorn) leaves Alembic out: about 10 MiB less per worker.
under_flask_command = click.get_current_context(silent=True) is not None
app = create_app({"MIGRATIONS": under_flask_command})
if not under_flask_command:
    ready_to_serve()
