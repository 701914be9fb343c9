"""The OpenAPI schema is generated without warnings and validates, so the docs describe every endpoint."""

from io import StringIO

import yaml
from django.core.management import call_command


def test_schema_is_valid_and_warning_free(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stdout=StringIO())
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in ["/api/auth/login/", "/api/profile/me/", "/api/admin/users/", "/api/admin/users/{id}/reset-password/"]:
        assert path in paths
    assert "Token" in str(schema["components"]["securitySchemes"])
