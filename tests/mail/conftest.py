"""Fixtures for the mail tests: the shared SMTP sink lives in tests/smtp_server.py."""

from tests.smtp_server import smtp_sink  # noqa: F401  (re-exported fixture)
