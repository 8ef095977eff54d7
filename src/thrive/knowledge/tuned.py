"""The search encoder: the bundled MiniLM fine-tuned on the guide's question keys and on the
questions of the topics it leaves out.

all-MiniLM-L6-v2 was trained on web pairs, not on how freelancers ask about this guide; on
the dev split its nearest-key match puts the right section first for 0.58 of the questions.
Fine-tuned for a few epochs on the guide's own question keys (each key paired with its
section's heading, in-batch negatives: the MultipleNegativesRankingLoss recipe), the same match
reaches 0.68 on dev, which it never saw, and 0.84 on a second dev set written afterwards by
a helper who had seen neither (evals/dev.jsonl, cases `d2-*`, before they were added).
Pairing each key with its section's first chunk instead did about as well (0.71 / 0.84) but
would retrain at every edit of the guide's text; the heading changes only with the keys.
The ranker (ranking.py) reads its similarities beside the bundled model's.

The outside-topic questions (outside.py), each paired with "Outside the guide: <topic>",
are in the same batches: the encoder learns to set them apart from the guide, and the
scope check reads its similarities. Of the dev split's `d3-*` cases, written apart from
the topics and scored before they were added, it declined 42 of the 45 out of scope and
none of the 95 answerable; the bundled model's similarities, at their own best margin,
declined 40 and 2 answerable ones (outside.py has the figures). Retrieval stayed where it
was (ranker fitted on the 267 dev questions before `d3-*`: cross-validated hit@1 / recall@5
/ MRR 0.803 / 0.842 / 0.870 before, 0.800 / 0.841 / 0.867 after; on the `d3-*` cases
0.58 / 0.59 / 0.73 both).

More question keys, written from the guide alone (26 per section instead of 12), with the
outside topics grown to match (16 questions each instead of 8): ranker refitted on the 407
answerable dev questions, cross-validated hit@1 / recall@5 / MRR went from 0.733 / 0.770 /
0.829 to 0.762 / 0.781 / 0.846 (ranker.json), and on the 115 answerable `d3-*` and `d4-*`
ones (labelled like the test split, with 3 or 4 sections each) from 0.626 / 0.627 / 0.769
to 0.655 / 0.649 / 0.780. The keys alone gave 0.767 / 0.782 / 0.852, but declined 9 fewer
out-of-scope dev questions (outside.py).

Labelled example questions (the guide's `.examples.yaml`, corpus.py's with_examples), each
a key of every section it is labelled with, are trained on the same way; a key of several
sections counts each of their headings as right, not as a negative. Ranker refitted on the
407 answerable dev questions, 5-fold cross-validated hit@1 / recall@5 / MRR at C=0.3 (the
ranker's own cross-validation, on the same rows, 2026-12-03): 0.765 / 0.780 / 0.847 before;
390 examples, 4 epochs, without the masking 0.841 / 0.864 / 0.904, with it 0.867 / 0.870 /
0.921; 780 examples 0.846 / 0.886 / 0.908, and at 2 epochs 0.865 / 0.881 / 0.917 (kept).
On the 140 answerable `d3-*` and `d4-*` ones, labelled like the test split: 0.660 / 0.648 /
0.782 before, 0.848 / 0.815 / 0.905 with the 780 at 2 epochs.

Built by `thrive ingest` when the keys or the topics change (about 7 minutes on 2 cores for
the 3,924 pairs of the bundled guide's keys, examples and outside questions), into the
user's cache folder next to the ONNX export (onnx_engine.py), named after what it was trained on: every index of the
same guide shares it, and a process that finds none uses the bundled model's similarities
in their place. Queries run on its ONNX export, like the bundled model's.

Why a hand-written training loop: sentence-transformers' `fit` needs the `datasets` and
`accelerate` packages (some 100 MB) for a loop of twenty lines.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import random
import shutil
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import numpy as np

from thrive.base import embeddings, onnx_engine
from thrive.base.files import build_folder_once, write_atomic

log = logging.getLogger(__name__)

# Set on dev (evals/dev.jsonl answerable cases, nearest-key hit@1 / recall@5 / MRR of the
# encoder alone, measured with keys paired with their section's first chunk, before the
# heading pairs above): base 0.581 / 0.663 / 0.706; 2 epochs at 2e-5 0.659 / 0.734 / 0.771; 4 at
# 2e-5 0.689 / 0.733 / 0.789; 4 at 5e-5 0.713 / 0.728 / 0.806 (chosen; with
# heading pairs 0.683 / 0.724 / 0.780). Scale 20 and batch
# 32 are the loss's usual values, not tuned. Epochs set again on dev with the 780 labelled
# examples (ranker cross-validated on the 407 answerable dev questions at C=0.3, hit@1 /
# recall@5 / MRR): 4 epochs 0.846 / 0.886 / 0.908 in 15.5 min; 2 epochs 0.865 / 0.881 /
# 0.917 in 7.2 min (chosen). Format 2: a key's other sections are not its negatives.
TRAINING = {"epochs": 2, "learning_rate": 5e-5, "batch": 32, "scale": 20.0, "seed": 0, "format": 2}
MANIFEST = "tuned.json"  # written last: a folder without it is not a finished model
# Seconds per training example and epoch on 2 cores, for the estimate ingest prints.
# Measured here on 2026-12-03 (4 epochs): 1,817 examples in 5.2 min, 2,653 in 8.6 min,
# 3,924 in 15.5 min (about 0.05 s each).
SECONDS_PER_EXAMPLE_EPOCH = 0.055
Pair = tuple[str, str]  # (question key, the text it should land near)


def folder_for(pairs: Sequence[Pair], cache_dir: Path | None = None) -> Path:
    """The cache folder of the encoder trained on `pairs` (same pairs, same folder)."""
    digest = hashlib.sha256(
        json.dumps([embeddings.MODEL_NAME, TRAINING, sorted(pairs)]).encode()
    ).hexdigest()[:16]
    return (cache_dir or onnx_engine.cache_root()) / f"tuned-{digest}"


def training_pairs(keys: Sequence[Pair], outside_pairs: Sequence[Pair]) -> list[Pair]:
    """What the encoder is trained on: the guide's question keys with their headings, and
    the corpus's outside-topic questions with their topics (outside.py's training_pairs),
    so that it learns to tell a question the guide answers from one it leaves out. The key
    pairs come first: their vectors are what the searcher reads."""
    return [*keys, *outside_pairs]


def minutes_to_train(examples: int) -> int:
    """About how long training on `examples` pairs takes on 2 cores, in whole minutes."""
    return max(1, round(examples * int(TRAINING["epochs"]) * SECONDS_PER_EXAMPLE_EPOCH / 60))


def is_built(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def ensure_built(
    pairs: Sequence[Pair],
    cache_dir: Path | None = None,
    on_train: Callable[[int], None] | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Path | None:
    """The folder of the encoder for `pairs`, training it first if no process has yet
    (under a file lock, in a temporary folder renamed into place: a crash leaves nothing
    half-written); `on_train(examples)` is called when this call is the one that trains,
    `on_wait()` when it waits for another process's training.
    None when there is nothing to train on."""
    if len({b for _, b in pairs}) < 2:
        return None
    folder = folder_for(pairs, cache_dir)

    def train(work: Path) -> None:
        if on_train:
            on_train(len(pairs))
        log.info("Fine-tuning the search encoder on %d examples", len(pairs))
        _train(list(pairs), work)

    return build_folder_once(folder, is_built, train, timeout=1800, on_wait=on_wait)


def _train(pairs: list[Pair], out: Path) -> None:
    import torch

    torch.manual_seed(int(TRAINING["seed"]))
    model = embeddings._load_sentence_transformer()
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=float(TRAINING["learning_rate"]))
    order = random.Random(TRAINING["seed"])
    batch = int(TRAINING["batch"])

    def embed(texts: list[str]) -> torch.Tensor:
        features = (
            model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)
        )
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    # A key written for several sections is a pair with each of their headings: in a batch
    # holding two of them, the other heading is not a negative of the key.
    targets_of: dict[str, set[str]] = {}
    for a, b in pairs:
        targets_of.setdefault(a, set()).add(b)
    for _ in range(int(TRAINING["epochs"])):
        shuffled = pairs[:]
        order.shuffle(shuffled)
        for start in range(0, len(shuffled), batch):
            chunk = shuffled[start : start + batch]
            targets = [b for _, b in chunk]
            # In-batch negatives; two keys of one section share their target's column.
            logits = embed([a for a, _ in chunk]) @ embed(targets).T * TRAINING["scale"]
            labels = torch.tensor([targets.index(t) for t in targets])
            also_right = torch.tensor(
                [
                    [j != labels[i] and t in targets_of[a] for j, t in enumerate(targets)]
                    for i, (a, _) in enumerate(chunk)
                ]
            )
            logits = logits.masked_fill(also_right, float("-inf"))
            loss = torch.nn.functional.cross_entropy(logits, labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    model.save(str(out))
    # Newer sentence-transformers write the pooling config in a shape the ONNX exporter
    # (onnx_engine.py) does not read; the pooling is unchanged, so the bundled one is kept.
    pooling = Path("1_Pooling") / "config.json"
    shutil.copyfile(Path(embeddings.model_path()) / pooling, out / pooling)
    write_atomic(out / MANIFEST, json.dumps({"training": TRAINING, "pairs": len(pairs)}) + "\n")


@cache
def _encoder(folder: str) -> onnx_engine.OnnxEncoder:
    return onnx_engine.load(Path(folder))


def encode(folder: Path, texts: list[str]) -> np.ndarray:
    """Unit-length vectors of `texts` from the tuned encoder (its ONNX export)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return _encoder(str(folder)).encode(list(texts))


def chunk_vectors(folder: Path, texts: Sequence[str]) -> np.ndarray:
    """The tuned vectors of an index's chunk texts, computed once and kept in the folder."""
    digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    saved = folder / f"chunks-{digest}.npy"
    try:
        return np.load(saved)
    except (OSError, ValueError):
        vectors = encode(folder, list(texts))
        # A temporary file of its own per writer: two first questions at once both save.
        out = io.BytesIO()
        np.save(out, vectors)
        write_atomic(saved, out.getvalue())
        return vectors
