"""Native executables and shared libraries shipped beside a model."""

from __future__ import annotations

from modelsteward.checks.security._context import Context


def scan(data: memoryview, ctx: Context) -> None:
    """Report native code: a loader that loads it (a custom op library, a ctypes call) runs it unchecked."""
    kind = {b"\x7fE": "ELF", b"MZ": "PE"}.get(bytes(data[:2]), "Mach-O")
    ctx.report(
        "NATIVE-CODE", f"{kind} binary ({len(data)} bytes) cannot be audited by scanning", evidence=kind
    )
