from __future__ import annotations

import pytest

from practice.selectors import reservation_forget


@pytest.fixture(autouse=True)
def _fresh_reservation():
    """The reservation is cached in Redis; a rolled-back test leaves its rounds' rule behind (no signal fires on
    a rollback), so every test starts without one."""
    reservation_forget()
    yield
    reservation_forget()
