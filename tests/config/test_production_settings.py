"""`DJANGO_ENV=production` refuses unsafe settings, and with proper values passes `check --deploy`."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

GOOD_SECRET = secrets.token_urlsafe(64)
PRODUCTION = {"DJANGO_ENV": "production", "SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "api.example.test", "DEBUG": "0"}


def run_manage(env_overrides: dict, *args: str) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}}
    env.update(env_overrides)
    env = {key: value for key, value in env.items() if value is not None}
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_production_refuses_unsafe_settings_and_accepts_safe_ones():
    # Started together: each is a separate Python start-up.
    refused = {
        "default secret key": run_manage({**PRODUCTION, "SECRET_KEY": None}, "check"),
        "short secret key": run_manage({**PRODUCTION, "SECRET_KEY": "short"}, "check"),
        "DEBUG": run_manage({**PRODUCTION, "DEBUG": "1"}, "check"),
        "empty ALLOWED_HOSTS": run_manage({**PRODUCTION, "ALLOWED_HOSTS": ""}, "check"),
        "unset ALLOWED_HOSTS": run_manage({**PRODUCTION, "ALLOWED_HOSTS": None}, "check"),
    }
    accepted = run_manage(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    expected_messages = {
        "default secret key": "SECRET_KEY must be set",
        "short secret key": "SECRET_KEY must be set",
        "DEBUG": "DEBUG must be off",
        "empty ALLOWED_HOSTS": "ALLOWED_HOSTS must be set",
        "unset ALLOWED_HOSTS": "ALLOWED_HOSTS must be set",
    }
    for case, process in refused.items():
        out, err = process.communicate(timeout=60)
        assert process.returncode != 0, case
        assert "Refusing to start in production" in err, (case, err[-2000:])
        assert expected_messages[case] in err, case
        assert GOOD_SECRET not in out + err

    out, err = accepted.communicate(timeout=60)
    assert accepted.returncode == 0, err[-3000:]
    assert "System check identified no issues" in out


@pytest.mark.slow
def test_forwarded_proto_is_trusted_only_behind_num_proxies():
    """A client talking to Daphne directly (NUM_PROXIES=0) cannot claim HTTPS with X-Forwarded-Proto; behind one
    proxy (nginx, which sets the header itself) it marks the request secure."""
    show = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    direct = run_manage({**PRODUCTION, "NUM_PROXIES": "0"}, "shell", "-c", show)
    proxied = run_manage({**PRODUCTION, "NUM_PROXIES": "1"}, "shell", "-c", show)
    out, err = direct.communicate(timeout=60)
    assert direct.returncode == 0, err[-2000:]
    assert out.strip().splitlines()[-1] == "None"
    out, err = proxied.communicate(timeout=60)
    assert proxied.returncode == 0, err[-2000:]
    assert out.strip().splitlines()[-1] == "('HTTP_X_FORWARDED_PROTO', 'https')"
