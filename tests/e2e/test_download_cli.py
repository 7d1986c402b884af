"""Models come out of a real ``xerotier up`` byte-identical: uploaded with ``xeroctl models upload``,
back through ``xeroctl models download name@latest`` (parallel, resumed, verified), through ``curl``
with a resumed range, and through ``huggingface_hub.snapshot_download`` with ``HF_ENDPOINT`` set."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.hf_client import hf_call, transformers_load
from support.hf_folders import write_hf_folder

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
PARTIAL = ".xerotier-partial"


def xeroctl(proc, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XEROTIER_API_URL=proc.url, XEROTIER_API_KEY=proc.api_key, COLUMNS="200")
    return subprocess.run([str(BIN / "xeroctl"), *args], env=env, capture_output=True, text=True, timeout=180)


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and ".cache" not in p.relative_to(folder).parts
    }


@pytest.fixture
def uploaded(embedded, tmp_path):
    folder = write_hf_folder(tmp_path / "tiny-embed")
    for name in ("tiny-embed", "org/tiny-embed"):
        done = xeroctl(embedded, "-o", "json", "models", "upload", str(folder), "--name", name, "--wait")
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["status"] == "ready"
    return folder


def test_xeroctl_download_by_name_resumes_verifies_and_skips(embedded, uploaded, tmp_path):
    out = tmp_path / "out"
    done = xeroctl(embedded, "-o", "json", "models", "download", "tiny-embed@latest", "--dir", str(out))
    assert done.returncode == 0, done.stderr
    assert tree(out) == tree(uploaded)
    assert {f["action"] for f in json.loads(done.stdout)["files"]} == {"downloaded"}

    again = xeroctl(embedded, "-o", "json", "models", "download", "tiny-embed", "--dir", str(out))
    assert {f["action"] for f in json.loads(again.stdout)["files"]} == {"skipped"}

    weights = out / "model.safetensors"
    original = weights.read_bytes()
    weights.unlink()
    (out / f"model.safetensors{PARTIAL}").write_bytes(original[: len(original) // 2])
    resumed = xeroctl(embedded, "-o", "json", "models", "download", "tiny-embed@1.0.0", "--dir", str(out))
    actions = {f["path"]: f["action"] for f in json.loads(resumed.stdout)["files"]}
    assert actions["model.safetensors"] == "resumed" and weights.read_bytes() == original

    weights.unlink()
    (out / f"model.safetensors{PARTIAL}").write_bytes(b"\0" * (len(original) // 2))  # corrupt bytes
    bad = xeroctl(
        embedded, "models", "download", "tiny-embed", "--dir", str(out), "--include", "*.safetensors"
    )
    assert bad.returncode == 1 and "model.safetensors: sha256 mismatch" in bad.stderr
    assert not weights.exists() and not (out / f"model.safetensors{PARTIAL}").exists()

    only = tmp_path / "only"
    done = xeroctl(embedded, "models", "download", "org/tiny-embed@1.0.0", "--dir", str(only),
                   "--include", "*.json", "--exclude", "1_Pooling/*")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert tree(only) == {k: v for k, v in tree(uploaded).items() if k.endswith(".json") and "/" not in k}
    listed = json.loads(xeroctl(embedded, "-o", "json", "models", "files", "org/tiny-embed").stdout)
    assert sorted(f["path"] for f in listed) == sorted(tree(uploaded))


def test_curl_resumes_a_range(embedded, uploaded, tmp_path):
    original = (uploaded / "model.safetensors").read_bytes()
    target = tmp_path / "w.safetensors"
    url = f"{embedded.url}/v1/models/org%2Ftiny-embed@latest/files/model.safetensors"
    auth = ["-H", f"Authorization: Bearer {embedded.api_key}"]
    half = len(original) // 2
    first = subprocess.run(["curl", "-sf", *auth, "-r", f"0-{half - 1}", "-o", str(target), url], timeout=60)
    assert first.returncode == 0 and target.stat().st_size == half
    rest = subprocess.run(["curl", "-sf", *auth, "-C", "-", "-o", str(target), url], timeout=60)
    assert rest.returncode == 0 and target.read_bytes() == original


def test_snapshot_download_with_hf_endpoint(embedded, uploaded, tmp_path):
    slug = embedded.api_key.split("_")[1]
    for repo in (f"{slug}/tiny-embed", "org/tiny-embed"):
        got = hf_call(embedded.url, embedded.api_key, tmp_path / "hf", "snapshot", repo_id=repo)
        assert tree(Path(got["path"])) == tree(uploaded), repo


def test_transformers_loads_by_repo_id(embedded, uploaded, tmp_path):
    """``AutoConfig``/``AutoTokenizer.from_pretrained("<slug>/<name>")`` with ``HF_ENDPOINT`` set."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder = tmp_path / "tiny-tok"
    shutil.copytree(uploaded, folder)
    tokenizer = Tokenizer(models.WordLevel({f"t{i}": i for i in range(256)}, unk_token="t0"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "PreTrainedTokenizerFast"}))
    done = xeroctl(embedded, "-o", "json", "models", "upload", str(folder), "--wait")
    assert done.returncode == 0 and json.loads(done.stdout)["status"] == "ready", done.stdout + done.stderr
    slug = embedded.api_key.split("_")[1]
    loaded = transformers_load(embedded.url, embedded.api_key, tmp_path / "hf", f"{slug}/tiny-tok", "1.0.0")
    assert loaded["model_type"] == "llama" and loaded["hidden_size"] == 64
    assert loaded["vocab"] == 256 and loaded["ids"] == [1, 2]


def test_aliases_and_tags_commands(embedded, uploaded, tmp_path):
    def ok(*args: str):
        done = xeroctl(embedded, "-o", "json", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert ok("models", "aliases", "set", "org/tiny-embed", "champion", "1.0.0")["version"] == "1.0.0"
    assert [a["alias"] for a in ok("models", "aliases", "list", "org/tiny-embed")] == ["champion"]
    assert ok("models", "get", "org/tiny-embed@champion")["aliases"] == ["champion"]
    assert ok("models", "tags", "set", "org/tiny-embed", "team", "search") == {"team": "search"}
    assert ok("models", "tags", "set", "org/tiny-embed", "eval/mmlu", "0.7", "--version", "1.0.0") == {
        "eval/mmlu": "0.7"
    }
    assert ok("models", "tags", "list", "org/tiny-embed") == {"team": "search"}
    out = tmp_path / "champion"
    got = ok("models", "download", "org/tiny-embed@champion", "--dir", str(out), "--include", "config.json")
    assert (
        got["version"] == "1.0.0"
        and (out / "config.json").read_bytes() == (uploaded / "config.json").read_bytes()
    )
    assert ok("models", "aliases", "delete", "org/tiny-embed", "champion")["deleted"]["alias"] == "champion"
    missing = xeroctl(embedded, "models", "get", "org/tiny-embed@champion")
    assert missing.returncode == 1 and "has no version or alias 'champion'" in missing.stderr
    assert ok("models", "tags", "delete", "org/tiny-embed", "team") == {}
    history = ok("models", "versions", "history", "org/tiny-embed")
    assert [(h["kind"], h["alias"]) for h in history if h["alias"]] == [
        ("alias-delete", "champion"), ("alias-set", "champion")
    ]  # fmt: skip
