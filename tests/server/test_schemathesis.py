"""Property-based requests from the OpenAPI document, with an admin's token: no request gets a 5xx.

The two job-starting routes are left out: a generated source or data path is a file on this machine
(``.`` would admit the whole checkout), and test_jobs.py covers them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from modelsteward.settings import Settings
from tests.server.conftest import Workspace, make_client

Template = tuple[Path, dict[str, str], str]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, _template: Template) -> Iterator[TestClient]:
    database, tokens, spare = _template
    home = tmp_path_factory.mktemp("fuzz")
    shutil.copy(database, home / "registry.db")
    workspace = Workspace(
        Settings(home=home, database_url=f"sqlite:///{home / 'registry.db'}"), tokens, spare
    )
    with make_client(workspace, job_workers=1) as client:
        yield client


def test_no_request_is_a_server_error(api: TestClient, _template: Template) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.app).exclude(
        path_regex=r"^/api/v1/jobs/(admit|evaluate)$"
    )
    # Admin: every route is authorised, so the requests reach the handlers rather than stop at 403.
    headers = {"Authorization": f"Bearer {_template[1]['admin']}"}
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "the OpenAPI document has operations schemathesis cannot read"
    assert len(operations) > 25

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def no_server_error(case: schemathesis.Case[Any]) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        no_server_error()
