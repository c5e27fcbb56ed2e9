"""Real-browser tests (Chromium via Playwright, axe-core); see conftest.py for the fixtures."""
