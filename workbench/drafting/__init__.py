from flask import Blueprint

bp = Blueprint("drafting", __name__)

from . import views  # noqa: E402,F401  (routes register on import)
