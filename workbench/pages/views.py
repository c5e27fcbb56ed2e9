"""Pages that explain the service: about, privacy; and a health check for operators and benchmarks."""

from flask import Blueprint, Response, render_template

bp = Blueprint("pages", __name__)


@bp.get("/health")
def health():
    # Touches nothing: the benchmark's "trivial route of the same app", and a liveness probe.
    return Response("ok\n", mimetype="text/plain")


@bp.get("/about")
def about():
    return render_template("pages/about.html")


@bp.get("/privacy")
def privacy():
    return render_template("pages/privacy.html")
