"""The JSON API against its own OpenAPI document: schemathesis fuzzes every operation of a real
server (uvicorn on loopback, a DuckDB store holding GLOTIP, one upload and a publication), as the
regional analyst (an API token) and as the public, and checks that no answer is a server error
and that every answer the document describes has the shape it declares.

The run is bounded (a fixed seed, a few examples per operation) so that it takes well under a
minute; the Progress Report each publication would build is skipped (`no_report`).
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import GLOTIP_2023
from tests.web_support import example_files, live_server, make_app
from tipwatch.store.schema import publications
from tipwatch.web import auth, publish, workflow
from tipwatch.web.auth import Principal

pytestmark = pytest.mark.slow

CONFIG = {
    "seed": 20231130,
    "generation": {"mode": "all", "max-examples": 6, "no-shrink": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
}


def no_report(site, pid: str) -> None:
    """Stands in for the Progress Report's build (`publish._build_report`): the publication has none."""
    with site.store.engine.begin() as conn:
        conn.execute(publications.update().where(publications.c.id == pid).values(report_state="none"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schema")
    app = make_app(str(folder / "tipwatch.duckdb"), GLOTIP_2023)
    site = app.state.site
    _, good = example_files(folder)
    with site.lock:
        workflow.upload(site.store, Principal("fp_tha", "focal_point", "THA"), good.name, good.read_bytes())
    publish.publish(site, Principal("analyst", "analyst"), build_report=False)
    token = auth.create_token(site.store.engine, "analyst", "schemathesis").value
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(publish, "_build_report", no_report)
        with live_server(app) as url:
            yield url, token
    site.store.close()


@pytest.fixture(scope="module", params=["analyst", "public"])
def who(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def headers(who, server) -> dict:
    return {"Authorization": f"Bearer {server[1]}"} if who == "analyst" else {}


@pytest.fixture(scope="module")
def api_schema(who, server):
    return schemathesis.openapi.from_url(f"{server[0]}/api/v1/openapi.json",
                                         config=schemathesis.Config.from_dict(CONFIG))


@pytest.fixture(autouse=True)
def _node_id(request):
    # schemathesis 4.32's `from_fixture` reads and renames the test's `_nodeid` to report each
    # operation, an attribute pytest 9.2's nodes no longer have (they keep `nodeid` only).
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_the_api_answers_as_its_document_says(case, headers):
    case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])
