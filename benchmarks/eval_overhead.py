"""What evaluating through steward costs over calling the model's library directly, and the sandbox's start.

From one run, on the same rows, batches and models:
  direct      the library itself in this process: estimator.predict_proba (scikit-learn) or
              InferenceSession.run (ONNX Runtime), batch after batch
  steward     the same batches through steward's evaluation pass: each batch framed, sent to the
              model's sandboxed worker (bubblewrap), run by the adapter, the reply decoded and checked
  start       spawning a sandboxed worker until it is ready for its first request (no model loaded)

Direct and steward runs alternate, --runs times each; the best run of each is compared (the least
disturbed by the rest of the machine). Prints rows per second, steward's ratio to direct, the
median and worst start time, and whether the goals hold (ratio >= 0.9, start < 0.3 s).

    .venv/bin/python benchmarks/eval_overhead.py [--rows 200000] [--batch 4096] [--runs 5]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
from skl2onnx import to_onnx
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from modelsteward.checks.performance.adapters import Operation
from modelsteward.evaluation._batches import run_all
from modelsteward.evaluation._session import Candidate, Session
from modelsteward.runtime.sandbox import SandboxConfig, start_worker

THROUGHPUT_GOAL = 0.9
START_GOAL = 0.3
_ENTRYPOINT = "modelsteward.checks.performance.adapters._serve:handler"


def main() -> None:
    """Build the models, time both paths, print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--starts", type=int, default=20)
    args = parser.parse_args()
    features, labels = make_classification(n_samples=args.rows, n_features=20, random_state=0)
    features = features.astype(np.float64)
    sandbox = SandboxConfig()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"{args.rows} rows x 20 features, batches of {args.batch}, best of {args.runs} runs")
        print(f"{'model':<28}{'direct rows/s':>15}{'steward rows/s':>16}{'ratio':>8}")
        ratios = []
        for name, direct, folder in _models(root, features, labels):
            candidate = Candidate(name, folder)
            with Session(candidate, sandbox) as session:

                def through_steward(session: Session = session) -> None:
                    run_all(session, Operation.CLASSIFY, features, batch_size=args.batch)

                def directly(direct: Callable[[Any], Any] = direct) -> None:
                    for start in range(0, args.rows, args.batch):
                        direct(features[start : start + args.batch])

                times = _alternate({"direct": directly, "steward": through_steward}, args.runs)
            ratio = times["direct"] / times["steward"]
            ratios.append(ratio)
            print(
                f"{name:<28}{args.rows / times['direct']:>15,.0f}{args.rows / times['steward']:>16,.0f}"
                f"{ratio:>8.2f}"
            )
        starts = _starts(root, args.starts, sandbox)
        median = statistics.median(starts)
        print(
            f"sandboxed worker start, {args.starts} starts: median {median:.3f} s, worst {max(starts):.3f} s"
        )
        throughput = "met" if min(ratios) >= THROUGHPUT_GOAL else "MISSED"
        start = "met" if median < START_GOAL else "MISSED"
        print(
            f"goals: throughput ratio >= {THROUGHPUT_GOAL}: {throughput} (lowest {min(ratios):.2f}); "
            f"start < {START_GOAL} s: {start}"
        )


def _models(
    root: Path, features: np.ndarray[Any, Any], labels: np.ndarray[Any, Any]
) -> list[tuple[str, Callable[[Any], Any], Path]]:
    """(name, the direct call, the model's folder) for each model measured."""
    sample = features[:20_000], labels[:20_000]
    forest = RandomForestClassifier(n_estimators=50, max_depth=10, random_state=0, n_jobs=1).fit(*sample)
    linear = LogisticRegression(max_iter=500).fit(*sample)
    made = []
    for name, model in (("scikit-learn random forest", forest), ("scikit-learn logistic", linear)):
        folder = root / name.replace(" ", "-")
        folder.mkdir()
        (folder / "model.pkl").write_bytes(pickle.dumps(model))
        made.append((name, model.predict_proba, folder))
    folder = root / "onnx-forest"
    folder.mkdir()
    onnx_model = to_onnx(forest, features[:1], options={id(forest): {"zipmap": False}})
    (folder / "model.onnx").write_bytes(onnx_model.SerializeToString())
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # the adapter's default: one thread per worker
    session = onnxruntime.InferenceSession(
        str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )
    made.append(("onnxruntime random forest", lambda batch: session.run(None, {"X": batch}), folder))
    return made


def _alternate(paths: dict[str, Callable[[], None]], runs: int) -> dict[str, float]:
    best = dict.fromkeys(paths, float("inf"))
    for _ in range(runs):
        for name, path in paths.items():
            started = time.perf_counter()
            path()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def _starts(root: Path, count: int, sandbox: SandboxConfig) -> list[float]:
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        worker = start_worker(_ENTRYPOINT, model_root=root, config=sandbox)
        seconds.append(time.perf_counter() - started)
        worker.close()
    return seconds


if __name__ == "__main__":
    main()
