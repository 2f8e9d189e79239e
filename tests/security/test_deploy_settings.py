"""Production settings are safe by default, and ``manage.py check --deploy`` says so when they are not.

The settings are evaluated in a subprocess with a production-like environment (the test process's own
settings are the test ones).
"""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

BASE = str(settings.BASE_DIR)


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"SECRET_KEY", "DEBUG", "HTTPS", "CONTEST_ENGINE_EMBEDDED", "SMS_SENDER", "EMAIL_BACKEND",
                          "DJANGO_SETTINGS_MODULE"}}
    clean.update(DJANGO_SETTINGS_MODULE="contest_engine.settings", DEBUG="0", HTTPS="1", **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE, env=clean, capture_output=True,
                          text=True, timeout=120, check=False)


def test_production_without_secret_key_refuses_to_start():
    result = run_manage("check", CONTEST_ENGINE_EMBEDDED="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_forgotten_embedded_flag_is_flagged_by_check_deploy():
    """A PostgreSQL deployment that forgot CONTEST_ENGINE_EMBEDDED=0 runs on the built-in, public key:
    ``check --deploy`` must at least say so (security.W009)."""
    result = run_manage("check", "--deploy")
    assert "security.W009" in result.stdout + result.stderr


def test_check_deploy_flags_log_only_senders():
    result = run_manage("check", "--deploy", SECRET_KEY="k" * 20 + "-Zq8#x1!vT0pLm2@wR9&nB4$yC7^dF3*hJ6",
                        CONTEST_ENGINE_EMBEDDED="0")
    output = result.stdout + result.stderr
    assert "accounts.W001" in output  # SMS reset codes written to the log
    assert "accounts.W002" in output  # password-reset e-mails printed to the console
    assert "security.W009" not in output


def test_check_deploy_is_quiet_about_real_senders():
    result = run_manage("check", "--deploy", SECRET_KEY="k" * 20 + "-Zq8#x1!vT0pLm2@wR9&nB4$yC7^dF3*hJ6",
                        CONTEST_ENGINE_EMBEDDED="0", SMS_SENDER="accounts.sms.LogSmsSender.NotReally",
                        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    output = result.stdout + result.stderr
    assert "accounts.W002" not in output


@pytest.mark.django_db
def test_demo_data_is_refused_where_a_real_secret_key_is_set(settings):
    """load_demo creates a superuser with a published password: never on a production-like install."""
    settings.SECRET_KEY = "a-real-production-key-" + "x" * 40
    settings.DEBUG = False
    with pytest.raises(CommandError, match="production"):
        call_command("load_demo", stdout=StringIO())
    from accounts.models import User

    assert not User.objects.filter(is_superuser=True).exists()
