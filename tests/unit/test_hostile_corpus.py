"""The hostile-file corpus through the validator, then every accepted file through the real loaders.

Each case of ``support.hostile_corpus`` (published bypass classes of picklescan, modelscan and
fickling, and legitimate torch / numpy / tokenizer files) is validated as the only file of a model
folder with a valid safetensors weight beside it; its verdict must be the one the corpus states. Then
one subprocess opens *every* file with torch (``weights_only=False``), pickle, numpy
(``allow_pickle=True``) and joblib: no file the registry accepts may run its payload, and every
hostile case must (else it proves nothing).
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from support import hostile_corpus
from xerotier.errors import ValidationFailed
from xerotier.validation.inspect import FileRef, inspect_checkpoint

HARNESS = Path(__file__).parent.parent / "support" / "open_with_loaders.py"


def _safetensors() -> bytes:
    header = json.dumps({"w": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 8


def _problems(folder: Path, case: hostile_corpus.Case) -> list[str]:
    target = folder / case.id / case.path
    blobs = {case.path: target.read_bytes(), "model.safetensors": _safetensors()}
    refs = [FileRef(path, len(raw), path) for path, raw in blobs.items()]

    @contextmanager
    def opener(ref: FileRef):  # type: ignore[no-untyped-def]
        yield io.BytesIO(blobs[ref.key])

    try:
        inspect_checkpoint(refs, opener, None)
    except ValidationFailed as failure:
        return [line for line in failure.message.split("\n") if line.startswith(case.path)]
    return []


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[hostile_corpus.Case]]:
    for needed in ("torch", "numpy", "joblib"):
        try:
            __import__(needed)
        except ImportError:
            pytest.fail(f"{needed} is needed to build and load the corpus (pip install -e '.[test]')")
    folder = tmp_path_factory.mktemp("corpus")
    return folder, hostile_corpus.build(folder)


def test_every_case_gets_its_verdict(corpus):
    folder, cases = corpus
    wrong = []
    for case in cases:
        problems = _problems(folder, case)
        if case.verdict == hostile_corpus.ACCEPT and problems:
            wrong.append(f"{case.id}: refused ({problems[0]})")
        elif case.verdict == hostile_corpus.REFUSE:
            if not problems:
                wrong.append(f"{case.id}: accepted ({case.why})")
            elif case.refusal not in problems[0]:
                wrong.append(f"{case.id}: refused for another reason: {problems[0]}")
            elif "Traceback" in problems[0]:
                wrong.append(f"{case.id}: a traceback in the message")
    assert not wrong, "\n".join(wrong)


def test_nothing_the_registry_accepts_runs_and_every_hostile_case_is_live(corpus):
    folder, cases = corpus
    accepted = [c for c in cases if not _problems(folder, c)]
    paths = [str(folder / c.id / c.path) for c in cases]
    run = subprocess.run(
        [sys.executable, str(HARNESS), *paths], capture_output=True, text=True, timeout=240, cwd=folder
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "missing loader" not in run.stdout, run.stdout
    ran = {p.name.removeprefix("ran-") for p in folder.glob("ran-*")}
    assert not ran & {c.id for c in accepted}, (
        f"accepted files ran code: {sorted(ran & {c.id for c in accepted})}"
    )
    dead = [c.id for c in cases if c.verdict == hostile_corpus.REFUSE and c.loaders and c.id not in ran]
    assert not dead, f"hostile cases that no loader ran (they prove nothing): {dead}"
    assert len(accepted) >= 15  # the legitimate torch / numpy / tokenizer files
