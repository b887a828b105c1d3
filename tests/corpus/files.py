"""Container helpers the builders share: zips, tars, torch checkpoints, library writers."""

from __future__ import annotations

import io
import sys
import tarfile
import tempfile
import types
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def zip_of(members: Mapping[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip holding ``members`` in order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_of(members: Mapping[str, bytes]) -> bytes:
    """An uncompressed ustar archive holding ``members`` in order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def torch_bytes(obj: object, *, legacy: bool = False) -> bytes:
    """What ``torch.save(obj)`` writes, in the zip format or the legacy stacked-pickle one."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


def torch_zip_with(data_pkl: bytes) -> bytes:
    """A real torch checkpoint (one float32 tensor of 4) whose ``data.pkl`` is replaced."""
    import torch

    with zipfile.ZipFile(io.BytesIO(torch_bytes({"w": torch.zeros(4)}))) as template:
        members = {
            info.filename: data_pkl if info.filename.endswith("/data.pkl") else template.read(info)
            for info in template.infolist()
        }
    return zip_of(members)


def via_file(suffix: str, write: Callable[[Path], None]) -> bytes:
    """Bytes of what ``write`` puts at a temporary path, for writers that only take paths."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"sample{suffix}"
        write(path)
        return path.read_bytes()


@contextmanager
def foreign_modules(*classes: type) -> Iterator[None]:
    """Let the pickle module write ``classes`` under their ``__module__``, as if it were installed.

    Lets a test write the very pickle a library we do not install (ultralytics, transformers)
    would write, without reimplementing the pickler.
    """
    added: list[str] = []
    try:
        for cls in classes:
            parts = cls.__module__.split(".")
            for depth in range(1, len(parts) + 1):
                name = ".".join(parts[:depth])
                if name not in sys.modules:
                    sys.modules[name] = types.ModuleType(name)
                    added.append(name)
            setattr(sys.modules[cls.__module__], cls.__qualname__, cls)
        yield
    finally:
        for name in added:
            del sys.modules[name]


def gguf_with_template(template: str) -> bytes:
    """A small GGUF model (one tensor) whose ``tokenizer.chat_template`` is ``template``."""
    import gguf
    import numpy as np

    def write(path: Path) -> None:
        writer = gguf.GGUFWriter(str(path), "llama")
        writer.add_context_length(2048)
        writer.add_string("tokenizer.chat_template", template)
        writer.add_tensor("token_embd.weight", np.zeros((8, 8), dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()

    return via_file(".gguf", write)
