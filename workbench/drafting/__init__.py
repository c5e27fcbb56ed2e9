"""The drafting feature: its routes are in `views.py` (`bp`), registered by `create_app`."""
