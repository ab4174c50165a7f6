"""Mail tests: the app and the workers talk to the `smtp` server."""

from __future__ import annotations

import pytest

from service.settings import Settings
from tests.smtp import SmtpServer, mail_settings


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer) -> Settings:
    return mail_settings(database_url, smtp)
