"""Entry point for gunicorn and the flask command: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from workbench import create_app, ready_to_serve

app = create_app()
ready_to_serve()
