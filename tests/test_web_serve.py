"""`tipwatch serve` as people start it: several worker processes on PostgreSQL, one on DuckDB."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.web_support import PASSWORD, example_files, free_port
from tipwatch.cli import main


def _get(url: str, token: str) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _upload(url: str, token: str, path) -> tuple[int, dict]:
    boundary = "tipwatch-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    body += path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, json.loads(r.read())


@pytest.mark.postgres
@pytest.mark.slow
def test_several_workers_share_one_postgresql_store(pg_cluster, tmp_path, capsys):
    url = pg_cluster.create_database("tipwatch_serve_workers")
    assert main(["users", "add", "fp_tha", "--role", "focal_point", "--country", "tha", "--db", url,
                 "--password", PASSWORD]) == 0
    assert main(["users", "add", "ana", "--role", "analyst", "--db", url, "--password", PASSWORD]) == 0
    capsys.readouterr()
    assert main(["users", "token", "fp_tha", "--db", url]) == 0
    fp_token = capsys.readouterr().out.strip()
    assert main(["users", "token", "ana", "--db", url]) == 0
    ana_token = capsys.readouterr().out.strip()
    _, good = example_files(tmp_path)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tipwatch", "serve", "--db", url, "--workers", "2",
                               "--port", str(port)], stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, me = _get(f"{base}/me", fp_token)
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        assert (status, me["username"], me["country"]) == (200, "fp_tha", "THA")
        status, up = _upload(f"{base}/uploads", fp_token, good)
        assert (status, up["state"]) == (201, "valid")
        # Whichever worker answers, the upload is there: the workers share the store, not memory.
        for _ in range(8):
            status, seen = _get(f"{base}/uploads/{up['id']}", ana_token)
            assert (status, seen["state"], seen["country"]) == (200, "valid", "THA")
        assert _get(f"{base}/uploads/{up['id']}", "tw_not-a-token")[0] == 401
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    # The start-up line names the store without any password, and nothing went wrong.
    assert "tipwatch serves postgresql://" in err
    assert "Traceback" not in err


def test_a_duckdb_store_is_served_by_one_process(tmp_path, capsys):
    assert main(["serve", "--db", str(tmp_path / "t.duckdb"), "--workers", "2"]) == 1
    assert "one process" in capsys.readouterr().err


def test_the_api_documentation_needs_no_internet(tmp_path):
    from fastapi.testclient import TestClient

    from tipwatch.web import create_app

    app = create_app(str(tmp_path / "t.duckdb"))
    try:
        with TestClient(app) as client:
            page = client.get("/api/v1/docs")
            assert page.status_code == 200
            assert "cdn" not in page.text.lower() and "https://" not in page.text
            for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
                assert f"/static/web/swagger/{asset}" in page.text
                got = client.get(f"/static/web/swagger/{asset}")
                assert got.status_code == 200 and len(got.content) > 100_000
    finally:
        app.state.site.store.close()
