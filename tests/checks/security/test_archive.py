"""Containers: every member of a zip, tar, compressed stream or 7z is scanned, however it is hidden."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import pickle
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from modelsteward.checks.security import FileReport, Limits, ScanOptions
from modelsteward.checks.security._context import Context, Sink
from modelsteward.checks.security.archive import scan_tar, scan_zip
from modelsteward.core import Severity
from modelsteward.core.rules import load_catalogue
from tests.conftest import ScanBytes

PEERS = Path("/work/shared/peer-corpora/picklescan")


def payload(canary: Path) -> bytes:
    """A protocol-0 pickle that would run ``touch canary`` if loaded; it never is."""
    return f"cposix\nsystem\n(S'touch {canary}'\ntR.".encode()


def rules(report: FileReport) -> set[str]:
    return {f.rule for f in report.findings}


def flagged_at(report: FileReport, location: str) -> bool:
    """A critical finding whose location contains ``location``."""
    return any(f.severity is Severity.CRITICAL and location in f.location for f in report.findings)


def serious(report: FileReport) -> list[str]:
    return [f"{f.rule} {f.location} {f.message}" for f in report.findings if f.severity >= Severity.MEDIUM]


@pytest.fixture(autouse=True)
def _canary_never_fires(canary: Path) -> Iterator[None]:
    yield
    assert not canary.exists()


# --- zips built by hand, with every header field under the test's control --------------------


@dataclass(frozen=True)
class Entry:
    """One member: what its local header and central directory entry each say."""

    name: bytes
    data: bytes
    method: int = 0
    flags: int = 0
    local_name: bytes | None = None
    local_method: int | None = None
    local_size: int | None = None
    crc: int | None = None
    listed: bool = True


def _packed(entry: Entry) -> bytes:
    if entry.method == 8:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(entry.data) + packer.flush()
    return entry.data


def make_zip(entries: list[Entry], *, prefix: bytes = b"", central: bool = True) -> bytes:
    """A zip whose headers say exactly what ``entries`` say, after ``prefix``."""
    body = bytearray()
    directory = bytearray()
    count = 0
    for entry in entries:
        packed = _packed(entry)
        crc = zlib.crc32(entry.data) if entry.crc is None else entry.crc
        local_size = len(packed) if entry.local_size is None else entry.local_size
        local_name = entry.name if entry.local_name is None else entry.local_name
        local_method = entry.method if entry.local_method is None else entry.local_method
        offset = len(body)
        body += struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", 20, entry.flags, local_method, 0, 0, crc,
            local_size, len(entry.data), len(local_name), 0,
        )  # fmt: skip
        body += local_name + packed
        if entry.listed:
            count += 1
            directory += struct.pack(
                "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, entry.flags, entry.method, 0, 0, crc,
                len(packed), len(entry.data), len(entry.name), 0, 0, 0, 0, 0, offset,
            )  # fmt: skip
            directory += entry.name
    if not central:
        return prefix + bytes(body)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(body), 0)
    return prefix + bytes(body) + bytes(directory) + end


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip written by Python's zipfile."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_malicious_member_is_flagged_whatever_its_name(scan_bytes: ScanBytes, canary: Path) -> None:
    report = scan_bytes(zip_of({"readme.txt": payload(canary)}), name="model.zip")
    assert flagged_at(report, "readme.txt")


def test_torch_checkpoint_is_clean_and_a_replaced_data_pkl_is_flagged(
    scan_bytes: ScanBytes, canary: Path, tmp_path: Path
) -> None:
    import torch

    path = tmp_path / "model.pt"
    torch.save({"weight": torch.ones(4, 4), "bias": torch.zeros(4)}, path)
    clean = scan_bytes(path.read_bytes(), name="model.pt")
    assert clean.format == "zip"
    assert clean.status == "scanned" and not serious(clean), clean
    with zipfile.ZipFile(path) as original:
        members = {i.filename: original.read(i) for i in original.infolist()}
    pickle_name = next(name for name in members if name.endswith("data.pkl"))
    members[pickle_name] = payload(canary)
    assert flagged_at(scan_bytes(zip_of(members), name="model.pt"), pickle_name)


def test_tensor_bytes_that_start_like_a_broken_pickle_are_data(
    scan_bytes: ScanBytes, canary: Path, tmp_path: Path
) -> None:
    import torch

    # PROTO 2, BINGET of an empty memo slot, STOP: what random weights sometimes spell.
    looks_broken = torch.frombuffer(bytearray(b"\x80\x02h\xdc." + bytes(27)), dtype=torch.uint8)
    hides_payload = torch.frombuffer(bytearray(payload(canary)), dtype=torch.uint8)
    path = tmp_path / "model.pt"
    torch.save({"weight": looks_broken}, path)
    clean = scan_bytes(path.read_bytes(), name="model.pt")
    assert clean.status == "scanned" and not clean.findings, clean
    torch.save({"weight": hides_payload}, path)
    assert flagged_at(scan_bytes(path.read_bytes(), name="model.pt"), "/data/0")


def test_truncated_torch_checkpoint_is_incomplete(scan_bytes: ScanBytes, tmp_path: Path) -> None:
    import torch

    path = tmp_path / "model.pt"
    torch.save({"weight": torch.ones(64, 64)}, path)
    data = path.read_bytes()
    report = scan_bytes(data[: len(data) // 2], name="model.pt")
    assert "ZIP-MALFORMED" in rules(report)
    assert report.status == "incomplete"


def _recording_context(options: ScanOptions | None = None) -> tuple[Context, list[tuple[str, memoryview]]]:
    seen: list[tuple[str, memoryview]] = []

    def record(view: memoryview, ctx: Context) -> None:
        seen.append((ctx.where[-1], view))

    ctx = Context(
        path="model.pt",
        name="model.pt",
        options=options or ScanOptions(),
        catalogue=load_catalogue(),
        sink=Sink(),
        scan_nested=record,
    )
    return ctx, seen


def test_stored_members_are_slices_of_the_file_not_copies(tmp_path: Path) -> None:
    import torch

    path = tmp_path / "model.pt"
    torch.save({"weight": torch.arange(1000, dtype=torch.float32)}, path)
    data = path.read_bytes()
    ctx, seen = _recording_context()
    scan_zip(memoryview(data), ctx)
    storages = [(name, view) for name, view in seen if "/data/" in name]
    assert storages, [name for name, _ in seen]
    for _, view in storages:
        assert view.obj is data
        assert bytes(view) == np.arange(1000, dtype=np.float32).tobytes()


def test_numpy_archives_are_clean(scan_bytes: ScanBytes) -> None:
    plain, objects = np.arange(10), np.array([{"k": 1}, None], dtype=object)
    for save in (np.savez, np.savez_compressed):
        buffer = io.BytesIO()
        save(buffer, a=plain, b=objects)
        report = scan_bytes(buffer.getvalue(), name="arrays.npz")
        assert report.status == "scanned" and not serious(report), report


def test_every_zip_compression_method_is_read(scan_bytes: ScanBytes, canary: Path) -> None:
    for method in (zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        report = scan_bytes(zip_of({"data.pkl": payload(canary)}, compression=method), name="m.zip")
        assert flagged_at(report, "data.pkl"), method


def test_zip64_archive_is_read(scan_bytes: ScanBytes, canary: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, archive.open("data.pkl", "w", force_zip64=True) as member:
        member.write(payload(canary))
    assert flagged_at(scan_bytes(buffer.getvalue(), name="m.zip"), "data.pkl")


def test_bad_crc_is_reported_and_member_still_scanned(scan_bytes: ScanBytes, canary: Path) -> None:
    report = scan_bytes(make_zip([Entry(b"data.pkl", payload(canary), crc=0x1234)]))
    assert "ZIP-CRC-MISMATCH" in rules(report)
    assert flagged_at(report, "data.pkl")


def test_encrypted_flag_on_plain_data_is_scanned_anyway(scan_bytes: ScanBytes, canary: Path) -> None:
    report = scan_bytes(make_zip([Entry(b"data.pkl", payload(canary), flags=0x1)]))
    assert flagged_at(report, "data.pkl")
    assert "ARCHIVE-ENCRYPTED" in rules(report)
    assert report.status == "incomplete"


def test_patched_data_flag_is_reported(scan_bytes: ScanBytes, canary: Path) -> None:
    report = scan_bytes(make_zip([Entry(b"data.pkl", payload(canary), flags=0x20)]))
    assert "ZIP-UNUSUAL-FLAGS" in rules(report)
    assert flagged_at(report, "data.pkl")


def test_password_protected_zip_is_incomplete_but_not_flagged(scan_bytes: ScanBytes) -> None:
    report = scan_bytes((PEERS / "data/benign_password_protected.zip").read_bytes(), name="p.zip")
    assert report.status == "incomplete"
    assert rules(report) == {"ARCHIVE-ENCRYPTED"}
    assert not serious(report)


def test_name_mismatch_is_reported_and_data_scanned(scan_bytes: ScanBytes, canary: Path) -> None:
    entry = Entry(b"data.pkl", payload(canary), local_name=b"notes.txt")
    report = scan_bytes(make_zip([entry]))
    mismatch = [f for f in report.findings if f.rule == "ZIP-HEADER-MISMATCH"]
    assert mismatch and "notes.txt" in mismatch[0].message
    assert mismatch[0].severity >= Severity.HIGH
    assert flagged_at(report, "data.pkl")


def test_size_mismatch_scans_both_readings(scan_bytes: ScanBytes, canary: Path) -> None:
    benign = pickle.dumps([1, 2, 3], protocol=2)
    entry = Entry(b"data.pkl", benign + payload(canary), local_size=len(benign))
    report = scan_bytes(make_zip([entry]))
    assert "ZIP-HEADER-MISMATCH" in rules(report)
    assert flagged_at(report, "data.pkl")


def test_method_mismatch_scans_both_methods(scan_bytes: ScanBytes, canary: Path) -> None:
    entry = Entry(b"data.pkl", payload(canary), method=8, local_method=0)
    report = scan_bytes(make_zip([entry]))
    assert "ZIP-HEADER-MISMATCH" in rules(report)
    assert flagged_at(report, "data.pkl (method 8")


def test_duplicate_names_are_reported_and_both_scanned(scan_bytes: ScanBytes, canary: Path) -> None:
    entries = [Entry(b"data.pkl", pickle.dumps({"a": 1})), Entry(b"data.pkl", payload(canary))]
    report = scan_bytes(make_zip(entries))
    assert "ZIP-DUPLICATE-NAME" in rules(report)
    assert flagged_at(report, "data.pkl")


def test_pickle_zip_polyglot_scans_the_zip_from_its_end(scan_bytes: ScanBytes, canary: Path) -> None:
    front = pickle.dumps({"looks": "benign"}, protocol=2)
    report = scan_bytes(make_zip([Entry(b"archive/data.pkl", payload(canary))], prefix=front))
    assert report.format == "pickle+zip"
    assert "ZIP-PREPENDED-DATA" in rules(report)
    assert flagged_at(report, "archive/data.pkl")


def test_zip_appended_to_a_pickle_with_unshifted_offsets_is_read(scan_bytes: ScanBytes, canary: Path) -> None:
    front = pickle.dumps(list(range(50)), protocol=2)
    report = scan_bytes(front + zip_of({"data.pkl": payload(canary)}))
    assert flagged_at(report, "data.pkl")


def test_missing_central_directory_walks_local_headers(scan_bytes: ScanBytes, canary: Path) -> None:
    data = make_zip([Entry(b"a.txt", b"hello"), Entry(b"data.pkl", payload(canary), method=8)], central=False)
    report = scan_bytes(data)
    assert "ZIP-MALFORMED" in rules(report)
    assert flagged_at(report, "data.pkl")


def test_member_missing_from_central_directory_is_found(scan_bytes: ScanBytes, canary: Path) -> None:
    entries = [Entry(b"a.txt", b"hello"), Entry(b"hidden.pkl", payload(canary), listed=False)]
    report = scan_bytes(make_zip(entries))
    assert "ZIP-UNLISTED-DATA" in rules(report)
    assert flagged_at(report, "hidden.pkl")


def test_unsupported_method_is_incomplete(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(make_zip([Entry(b"data.bin", b"\x00" * 64, method=99)]))
    assert report.status == "incomplete"
    assert any("compression method 99" in reason for reason in report.incomplete)


def test_truncated_member_is_malformed_and_incomplete(scan_bytes: ScanBytes) -> None:
    data = make_zip([Entry(b"data.bin", b"x" * 100, local_size=5000)])
    report = scan_bytes(data)
    assert {"ZIP-MALFORMED", "ZIP-HEADER-MISMATCH"} <= rules(report)
    assert report.status == "incomplete"


def test_zip_in_zip_location_names_both_levels(scan_bytes: ScanBytes, canary: Path) -> None:
    inner = zip_of({"data.pkl": payload(canary)})
    report = scan_bytes(zip_of({"inner.zip": inner}))
    assert any(f.location.startswith("inner.zip > data.pkl") for f in report.findings), report.findings


def test_zip_bomb_stops_at_the_ratio_limit(scan_bytes: ScanBytes) -> None:
    data = zip_of({"zeros.bin": bytes(8 << 20)}, compression=zipfile.ZIP_DEFLATED)
    report = scan_bytes(data, options=ScanOptions(limits=Limits(max_ratio=50, ratio_floor=1 << 20)))
    assert "ARCHIVE-BOMB" in rules(report)
    assert report.status == "incomplete"


def test_decompression_budget_is_enforced(scan_bytes: ScanBytes) -> None:
    data = zip_of({"a.bin": bytes(4000), "b.bin": bytes(4000)}, compression=zipfile.ZIP_DEFLATED)
    report = scan_bytes(data, options=ScanOptions(limits=Limits(max_expanded_bytes=5000)))
    assert "ARCHIVE-BOMB" in rules(report)
    assert any("budget" in reason for reason in report.incomplete)


def test_member_limit_is_enforced(scan_bytes: ScanBytes) -> None:
    data = zip_of({f"m{i}.txt": b"x" for i in range(6)})
    report = scan_bytes(data, options=ScanOptions(limits=Limits(max_members=3)))
    assert "ARCHIVE-TOO-MANY-MEMBERS" in rules(report)
    assert report.status == "incomplete"


@pytest.mark.parametrize(
    "name",
    [
        "malicious1.zip",
        "malicious1_0x1.zip",
        "malicious1_0x20.zip",
        "malicious1_0x40.zip",
        "malicious1_central_directory.zip",
        "malicious1_wrong_ext.zip",
        "malicious1.7z",
    ],
)
def test_peer_bypass_archives_are_flagged(scan_bytes: ScanBytes, name: str) -> None:
    report = scan_bytes((PEERS / "data" / name).read_bytes(), name=name)
    assert report.worst is Severity.CRITICAL


# --- compressed streams -----------------------------------------------------------------------


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "lzma": lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE),
    "zlib": zlib.compress,
}


@pytest.mark.parametrize("method", sorted(COMPRESSORS))
def test_compressed_pickle_is_flagged(scan_bytes: ScanBytes, canary: Path, method: str) -> None:
    report = scan_bytes(COMPRESSORS[method](payload(canary)), name="model.joblib")
    assert report.worst is Severity.CRITICAL, report


@pytest.mark.parametrize("method", ["zlib", "gzip", "bz2", "lzma", "xz"])
def test_joblib_dumps_are_clean(scan_bytes: ScanBytes, tmp_path: Path, method: str) -> None:
    import joblib
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.arange(20.0).reshape(10, 2), [0, 1] * 5)
    path = tmp_path / f"model.{method}.joblib"
    joblib.dump(model, path, compress=(method, 3))
    report = scan_bytes(path.read_bytes(), name="model.joblib")
    assert report.status == "scanned" and not serious(report), report


def test_concatenated_gzip_streams_are_all_read(scan_bytes: ScanBytes, canary: Path) -> None:
    data = gzip.compress(b"") + gzip.compress(payload(canary))
    assert scan_bytes(data, name="model.pkl.gz").worst is Severity.CRITICAL


def test_bytes_after_a_stream_are_reported_and_scanned(scan_bytes: ScanBytes, canary: Path) -> None:
    report = scan_bytes(bz2.compress(b"hello") + payload(canary), name="x.bz2")
    assert "ARCHIVE-TRAILING-DATA" in rules(report)
    assert report.worst is Severity.CRITICAL


def test_gzip_bomb_is_cut_off(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(
        gzip.compress(bytes(8 << 20)), options=ScanOptions(limits=Limits(max_ratio=20, ratio_floor=1 << 20))
    )
    assert "ARCHIVE-BOMB" in rules(report)
    assert report.status == "incomplete"


def test_truncated_stream_is_incomplete_and_its_start_scanned(scan_bytes: ScanBytes, canary: Path) -> None:
    data = zlib.compress(payload(canary) + bytes(range(256)) * 64)
    report = scan_bytes(data[: len(data) // 2], name="model.joblib")
    assert report.status == "incomplete"
    assert report.worst is Severity.CRITICAL


# --- tar --------------------------------------------------------------------------------------


def tar_of(members: list[tarfile.TarInfo], contents: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info in members:
            data = (contents or {}).get(info.name, b"")
            info.size = len(data) if info.isfile() else 0
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def files(contents: dict[str, bytes]) -> bytes:
    return tar_of([tarfile.TarInfo(name) for name in contents], contents)


def test_legacy_torch_tar_members_are_scanned(scan_bytes: ScanBytes, canary: Path) -> None:
    contents = {
        "sys_info": pickle.dumps({"protocol_version": 1000, "little_endian": True}, protocol=2),
        "pickle": payload(canary),
        "storages": pickle.dumps(0, protocol=2),
        "tensors": pickle.dumps(0, protocol=2),
    }
    report = scan_bytes(files(contents), name="model.pt")
    assert report.format == "tar"
    assert flagged_at(report, "pickle")
    assert [f.location for f in report.findings if f.severity is Severity.CRITICAL] == ["pickle > offset 0"]


def test_tar_in_gzip_in_tar_is_followed(scan_bytes: ScanBytes, canary: Path) -> None:
    inner = gzip.compress(files({"deep/model.pkl": payload(canary)}))
    report = scan_bytes(files({"inner.tar.gz": inner}), name="outer.tar")
    assert flagged_at(report, "deep/model.pkl")


def test_long_names_reach_the_member(scan_bytes: ScanBytes, canary: Path) -> None:
    name = "d/" * 80 + "model.pkl"
    assert flagged_at(scan_bytes(files({name: payload(canary)})), name)


def test_traversal_names_are_reported(scan_bytes: ScanBytes) -> None:
    for name in ("../../home/user/.bashrc", "/etc/cron.d/job", "a/../../b"):
        report = scan_bytes(files({name: b"echo"}), name="x.tar")
        assert "TAR-PATH-TRAVERSAL" in rules(report), name
    assert not rules(scan_bytes(files({"a/../b.txt": b"x"})))


def test_links_pointing_outside_are_reported(scan_bytes: ScanBytes) -> None:
    def link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, target
        return info

    outside = [
        link("a/link", "../../etc", tarfile.SYMTYPE),
        link("link", "/etc/passwd", tarfile.SYMTYPE),
        link("hard", "../secret", tarfile.LNKTYPE),
    ]
    for info in outside:
        assert "TAR-LINK-OUTSIDE" in rules(scan_bytes(tar_of([info]))), info.name
    inside = [link("a/b/link", "../c", tarfile.SYMTYPE), link("hard", "a/c", tarfile.LNKTYPE)]
    assert not rules(scan_bytes(tar_of(inside)))


def test_device_member_is_reported(scan_bytes: ScanBytes) -> None:
    info = tarfile.TarInfo("dev/sda")
    info.type = tarfile.BLKTYPE
    assert "TAR-SPECIAL-FILE" in rules(scan_bytes(tar_of([info])))


def test_corrupt_tar_header_is_malformed(scan_bytes: ScanBytes) -> None:
    data = bytearray(files({"a.txt": b"hello", "b.txt": b"world"}))
    data[1024 + 148 : 1024 + 156] = b"0000000\x00"
    report = scan_bytes(bytes(data), name="x.tar")
    assert "TAR-MALFORMED" in rules(report)
    assert report.status == "incomplete"


def test_tar_members_are_slices_of_the_file(canary: Path) -> None:
    data = files({"a.pkl": payload(canary)})
    ctx, seen = _recording_context()
    scan_tar(memoryview(data), ctx)
    assert [name for name, _ in seen] == ["a.pkl"]
    assert seen[0][1].obj is data
    assert bytes(seen[0][1]) == payload(canary)


def test_tar_member_limit_is_enforced(scan_bytes: ScanBytes) -> None:
    data = files({f"m{i}": b"x" for i in range(5)})
    report = scan_bytes(data, options=ScanOptions(limits=Limits(max_members=2)))
    assert "ARCHIVE-TOO-MANY-MEMBERS" in rules(report)


# --- 7z ---------------------------------------------------------------------------------------


def test_7z_members_are_scanned(scan_bytes: ScanBytes, canary: Path, tmp_path: Path) -> None:
    import py7zr

    path = tmp_path / "m.7z"
    with py7zr.SevenZipFile(path, "w") as archive:
        archive.writestr(pickle.dumps([1.0, 2.0]), "weights.pkl")
        archive.writestr(payload(canary), "sub/config.pkl")
    report = scan_bytes(path.read_bytes(), name="m.7z")
    assert flagged_at(report, "sub/config.pkl")
    assert not any("weights.pkl" in f.location for f in report.findings)


def test_unreadable_7z_is_incomplete(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(40), name="m.7z")
    assert report.status == "incomplete"
    assert any("7z archive cannot be read" in reason for reason in report.incomplete)


def test_7z_bomb_is_cut_off(scan_bytes: ScanBytes, tmp_path: Path) -> None:
    import py7zr

    path = tmp_path / "bomb.7z"
    with py7zr.SevenZipFile(path, "w") as archive:
        archive.writestr(bytes(8 << 20), "zeros.bin")
    report = scan_bytes(
        path.read_bytes(), options=ScanOptions(limits=Limits(max_ratio=10, ratio_floor=1 << 20))
    )
    assert "ARCHIVE-BOMB" in rules(report)
    assert report.status == "incomplete"
