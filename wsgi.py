"""Entry point for `flask --app wsgi ...` and WSGI servers (gunicorn wsgi:app)."""

from maf import create_app

app = create_app()
