"""The roles x routes matrix: every route of the app declares who may use it.

Each feature adds a module here with `RULES = [Rule(...), ...]`. tests/test_access_matrix.py checks
every rule for anonymous visitors, volunteers, facilitators and admins, and fails for any route of the
app's URL map that no rule covers, so that every new route needs a decision.

URLs use placeholders filled from the test world: {slug}, {key}, {proposal}, {comment}, {reflection},
{work}, {user}, {token}.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

ROLES = ("anonymous", "volunteer", "facilitator", "admin")
EVERYONE = dict.fromkeys(ROLES, True)
MEMBERS = {"anonymous": False, "volunteer": True, "facilitator": True, "admin": True}
FACILITATORS = {"anonymous": False, "volunteer": False, "facilitator": True, "admin": True}
ADMINS = {"anonymous": False, "volunteer": False, "facilitator": False, "admin": True}
NOBODY = dict.fromkeys(ROLES, False)


@dataclass(frozen=True)
class Rule:
    endpoint: str
    method: str
    url: str
    allowed: dict[str, bool]
    # Form data for POSTs (a CSRF token is added).
    data: dict[str, str] = field(default_factory=dict)
    # Why, when it is not obvious.
    note: str = ""


def collect_rules() -> list[Rule]:
    rules: list[Rule] = []
    for module in pkgutil.iter_modules(__path__):
        rules.extend(importlib.import_module(f"{__name__}.{module.name}").RULES)
    return rules
