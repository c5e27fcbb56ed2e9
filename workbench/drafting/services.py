"""Moved: the working draft's services are now by job, in `state` (queries), `edits` (edit, add,
remove, move), `window` (the consultation window) and `publishing`.

bench/facilitation.py still imports `edit_element_text` from here; remove this module once it
imports it from `workbench.drafting.edits`.
"""

from .edits import edit_element_text  # noqa: F401  (bench/facilitation.py)
