"""Reading OSV exports: folders, zips, http and file URLs; what is skipped, what is refused."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelsteward.checks.dependencies._advisory import parse_osv
from modelsteward.checks.dependencies._feed import MAX_RECORD_BYTES, FeedError, read_feed, shown_location
from tests._ports import free_port

OSV = Path(__file__).parent / "osv"
FIXTURES = sorted(OSV.glob("*.json"))
IDS = sorted(path.stem for path in FIXTURES)

# PyPA writes times unquoted; a plain YAML load would turn them into datetimes.
PYPA_YAML = """\
id: PYSEC-2024-259
modified: 2025-07-16T03:09:57.748865Z
published: 2024-10-29T21:15:04Z
aliases:
- CVE-2024-48063
affected:
- package:
    ecosystem: PyPI
    name: torch
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: 2.5.0
"""


def ids(records: Iterator[tuple[str, Any]]) -> list[str]:
    return sorted(record["id"] for _, record in records)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """An OSV export as OSV publishes it: one ``<ID>.json`` per record, plus files that are not records."""
    path = tmp_path / "all.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for fixture in FIXTURES:
            archive.write(fixture, fixture.name)
        archive.writestr("README.md", "not a record")
        archive.writestr("docs/", "")
        archive.writestr("schema.json", json.dumps({"$schema": "http://json-schema.org/draft-07/schema#"}))
        archive.writestr(".github/workflows/ci.yaml", "{id: not-a-record")  # hidden folders are not read
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server of a folder: its base URL and the folder."""
    root = tmp_path / "served"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_folder_is_read_recursively_json_and_yaml(tmp_path: Path) -> None:
    for fixture in FIXTURES:
        folder = tmp_path / "vulns" / fixture.stem.split("-")[0].lower()
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(fixture, folder)
    (tmp_path / "vulns" / "torch").mkdir()
    (tmp_path / "vulns" / "torch" / "PYSEC-2024-259.yaml").write_text(PYPA_YAML, encoding="utf-8")
    (tmp_path / "README.md").write_text("# not a record", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "auto_import.yaml").write_text("on: push\njobs: {}\n", encoding="utf-8")

    records = list(read_feed(str(tmp_path)))
    assert ids(iter(records)) == sorted([*IDS, "PYSEC-2024-259"])
    where, record = next((w, r) for w, r in records if w.endswith(".yaml"))
    assert where == str(tmp_path / "vulns" / "torch" / "PYSEC-2024-259.yaml")
    assert record["modified"] == "2025-07-16T03:09:57.748865Z"  # a string, as OSV defines it
    assert parse_osv(record, where=where).affected[0].fixed == ("2.5.0",)


def test_a_pypa_record_dumped_to_yaml_reads_back_as_its_json(tmp_path: Path) -> None:
    record = json.loads((OSV / "PYSEC-2025-41.json").read_text(encoding="utf-8"))
    (tmp_path / "PYSEC-2025-41.yaml").write_text(yaml.safe_dump(record, sort_keys=False), encoding="utf-8")
    ((_, read),) = read_feed(str(tmp_path))
    assert read == record


def test_a_zip_export_yields_every_record_and_names_the_member(export: Path) -> None:
    records = list(read_feed(str(export)))
    assert ids(iter(records)) == IDS
    assert records[0][0] == f"{FIXTURES[0].name} in {export}"
    assert records[0][1] == json.loads(FIXTURES[0].read_text(encoding="utf-8"))


def test_an_http_url_is_downloaded_and_read(export: Path, server: tuple[str, Path]) -> None:
    base, root = server
    shutil.copy(export, root / "all.zip")
    records = list(read_feed(f"{base}/all.zip", env={}))
    assert ids(iter(records)) == IDS
    assert records[0][0].endswith(f" in {base}/all.zip")


def test_a_proxy_named_in_env_is_used_unless_no_proxy_exempts_the_host(
    export: Path, server: tuple[str, Path]
) -> None:
    base, root = server
    shutil.copy(export, root / "all.zip")
    # The server is no proxy: a request sent through it as one asks for the absolute URL and fails.
    dead = {"HTTP_PROXY": f"http://127.0.0.1:{free_port()}"}
    with pytest.raises(FeedError, match="cannot connect"):
        list(read_feed(f"{base}/all.zip", env=dead))
    assert ids(read_feed(f"{base}/all.zip", env={**dead, "NO_PROXY": "localhost,127.0.0.1"})) == IDS


def test_a_file_url_of_a_zip_is_read_like_its_path(export: Path) -> None:
    records = list(read_feed(export.as_uri()))
    assert ids(iter(records)) == IDS
    assert records[0][0] == f"{FIXTURES[0].name} in {export.as_uri()}"


def test_a_file_url_of_a_folder_reads_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    shutil.copy(FIXTURES[0], folder)
    assert ids(read_feed(folder.as_uri())) == [FIXTURES[0].stem]


def test_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("GHSA-bomb.json", b"{" + b" " * (4 * 1024**2) + b"}")
    with pytest.raises(
        FeedError, match=r"GHSA-bomb\.json in .*bomb\.zip: unpacks \d+ bytes to 4194306.*zip bomb"
    ):
        list(read_feed(str(path)))


def test_a_member_larger_than_any_record_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("huge.json", b"x" * (MAX_RECORD_BYTES + 1))
    with pytest.raises(FeedError, match=rf"huge\.json in .*: unpacks to {MAX_RECORD_BYTES + 1} bytes"):
        list(read_feed(str(path)))


def test_records_before_a_broken_one_are_yielded_then_it_is_named(tmp_path: Path) -> None:
    shutil.copy(FIXTURES[0], tmp_path / "A.json")
    (tmp_path / "B.json").write_text('{"id": "X",\n  "modified": }', encoding="utf-8")
    records = read_feed(str(tmp_path))
    assert next(records)[1]["id"] == FIXTURES[0].stem
    with pytest.raises(FeedError, match=rf"^{tmp_path / 'B.json'}:2:15: not valid JSON: Expecting value$"):
        next(records)


def test_a_member_that_is_not_json_names_the_member(tmp_path: Path) -> None:
    path = tmp_path / "all.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("GHSA-xxxx.json", "not json")
    with pytest.raises(FeedError, match=r"^GHSA-xxxx\.json in .*all\.zip:1:1: not valid JSON"):
        list(read_feed(str(path)))


def test_a_record_that_is_not_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "PYSEC-1.yaml").write_text("id: PYSEC-1\naliases: [CVE-1\n", encoding="utf-8")
    with pytest.raises(FeedError, match=r"PYSEC-1\.yaml:3:1: not valid YAML: expected ',' or ']'"):
        list(read_feed(str(tmp_path)))


def test_a_file_that_cannot_be_read_stops_the_read(tmp_path: Path) -> None:
    (tmp_path / "GHSA-gone.json").symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(FeedError, match=r"GHSA-gone\.json: cannot be read \(No such file or directory\)"):
        list(read_feed(str(tmp_path)))


def test_a_record_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / "GHSA-1.json").write_bytes(b'{"id": "\xff"}')
    with pytest.raises(FeedError, match=r"GHSA-1\.json: not UTF-8 text \(invalid start byte at byte 8\)"):
        list(read_feed(str(tmp_path)))


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("/nonexistent/osv", "no such file or folder"),
        ("ftp://example.com/all.zip", "cannot read ftp:// addresses"),
        ("file://otherhost/all.zip", "a file URL names a local path"),
    ],
)
def test_a_location_that_is_no_export_says_what_to_give(location: str, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        list(read_feed(location))


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "all.zip"
    path.write_text("<html>not found</html>", encoding="utf-8")
    with pytest.raises(FeedError, match=r"all\.zip is not a zip file; give an OSV export"):
        list(read_feed(str(path)))


def test_a_missing_url_reports_the_http_status(server: tuple[str, Path]) -> None:
    base, _ = server
    with pytest.raises(
        FeedError, match=rf"^{base}/missing\.zip: the server answered HTTP 404 .*check the address"
    ):
        list(read_feed(f"{base}/missing.zip", env={}))


def test_an_unreachable_url_says_what_to_check() -> None:
    url = f"http://127.0.0.1:{free_port()}/all.zip"
    with pytest.raises(
        FeedError, match=r"cannot connect \(.*\); check the address, the network and the proxy"
    ):
        list(read_feed(url, env={}))


def test_an_url_that_serves_no_zip_is_refused(server: tuple[str, Path]) -> None:
    base, root = server
    (root / "all.zip").write_text("<html>login</html>", encoding="utf-8")
    with pytest.raises(FeedError, match="did not return a zip file"):
        list(read_feed(f"{base}/all.zip", env={}))


def test_a_download_over_the_limit_is_stopped(export: Path, server: tuple[str, Path]) -> None:
    base, root = server
    shutil.copy(export, root / "all.zip")
    with pytest.raises(FeedError, match="larger than the 1024-byte limit"):
        list(read_feed(f"{base}/all.zip", env={}, max_bytes=1024))


# Secrets in the address


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("https://osv.example.test/PyPI/all.zip?token=SECRET", "https://osv.example.test/PyPI/all.zip"),
        ("https://user:SECRET@osv.example.test:8443/all.zip#SECRET", "https://osv.example.test:8443/all.zip"),
        ("http://SECRET@[::1]:8080/all.zip", "http://[::1]:8080/all.zip"),
        ("file:///srv/osv/all.zip?SECRET", "file:///srv/osv/all.zip"),
        ("ftp://user:SECRET@ftp.example.test/all.zip", "ftp://ftp.example.test/all.zip"),
        ("http://[::1/all.zip?token=SECRET", "http://…"),
        ("/srv/osv?/all.zip", "/srv/osv?/all.zip"),
        ("C:\\osv\\all.zip", "C:\\osv\\all.zip"),
        ("osv-exports/all.zip", "osv-exports/all.zip"),
    ],
)
def test_shown_location_leaves_out_what_may_be_a_secret(location: str, shown: str) -> None:
    assert shown_location(location) == shown


def test_a_downloaded_export_names_its_records_without_the_token(
    export: Path, server: tuple[str, Path]
) -> None:
    base, root = server
    shutil.copy(export, root / "all.zip")
    records = list(read_feed(f"{base}/all.zip?token=SECRET#SECRET", env={}))
    assert ids(iter(records)) == IDS
    assert all(where.endswith(f" in {base}/all.zip") for where, _ in records)


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("{base}/missing.zip?token=SECRET", r"^{base}/missing\.zip: the server answered HTTP 404 "),
        ("{dead}/all.zip?token=SECRET", r"^{dead}/all\.zip: cannot connect \("),
        (
            "{base}/all.zip?token=SE\x01CRET",
            r"^{base}/all\.zip: the address holds spaces, control characters",
        ),
        ("{base}/all.zip?token=SECRET É", r"^{base}/all\.zip: the address holds spaces, control characters"),
        (
            "http://user:SECRET@{host}/all.zip",
            r"^http://{host}/all\.zip: a user name or password .* not sent",
        ),
        ("http://[::1/all.zip?token=SECRET", r"^http://…: not a valid URL; check its host"),
        ("http://{host}:port/all.zip?SECRET", r"^http://{host}:port/all\.zip: the port is not a number"),
        ("ftp://user:SECRET@{host}/all.zip", r"^ftp://{host}/all\.zip: cannot read ftp:// addresses"),
        ("file://user:SECRET@{host}/all.zip", r"^file://{host}/all\.zip: a file URL names a local path"),
    ],
)
def test_no_error_shows_a_secret_of_the_address(server: tuple[str, Path], address: str, message: str) -> None:
    base, _ = server
    host = base.removeprefix("http://").partition(":")[0]
    names = {"base": base, "dead": f"http://127.0.0.1:{free_port()}", "host": host}
    pattern = message.format(**{key: re.escape(value) for key, value in names.items()})
    with pytest.raises(FeedError) as caught:
        list(read_feed(address.format(**names), env={}))
    assert re.search(pattern, str(caught.value))
    assert "SECRET" not in str(caught.value)
