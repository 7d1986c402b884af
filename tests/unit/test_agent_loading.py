"""The agent's staging (sha256 verification, cache reuse), built-in engine and vLLM command line."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest

from support.checkpoints import write_tiny_checkpoint
from xerotier.agent.builtin_engine import EngineFailure, load_folder
from xerotier.agent.engine_command import render_vllm
from xerotier.agent.staging import FileRef, IntegrityFailure, stage
from xerotier.storage.blobs import LocalBlobStore


def _store(tmp_path: Path, folder: Path) -> tuple[LocalBlobStore, list[FileRef]]:
    store = LocalBlobStore(tmp_path / "blobs")
    refs = []
    for path in sorted(folder.iterdir()):
        writer = store.writer()
        writer.write(path.read_bytes())
        blob = writer.commit()
        refs.append(FileRef(path.name, blob.sha256, blob.size))
    return store, refs


def test_stage_verifies_copies_then_reuses_by_sha256(tmp_path):
    store, refs = _store(tmp_path, write_tiny_checkpoint(tmp_path / "tiny"))
    cache = tmp_path / "cache"
    first = stage(store.open, cache, "load-1", refs)
    assert (first.copied, first.reused) == (2, 0)
    assert first.bytes_verified == sum(r.size_bytes for r in refs)
    staged = first.folder / "model.safetensors"
    assert hashlib.sha256(staged.read_bytes()).hexdigest() == refs[1].sha256
    second = stage(store.open, cache, "load-2", refs)  # another version with the same files
    assert (second.copied, second.reused) == (0, 2)
    assert (cache / "blobs" / refs[1].sha256).stat().st_nlink == 3  # one copy, linked twice


def test_a_changed_byte_fails_the_stage_naming_the_file(tmp_path):
    store, refs = _store(tmp_path, write_tiny_checkpoint(tmp_path / "tiny"))
    blob = store.path_for(refs[1].sha256)
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(IntegrityFailure) as info:
        stage(store.open, tmp_path / "cache", "load-1", refs)
    assert str(info.value).startswith(f"model.safetensors: sha256 mismatch (registry {refs[1].sha256}")
    assert not (tmp_path / "cache" / "blobs" / refs[1].sha256).exists()  # nothing bad is cached


def test_a_cached_copy_is_verified_again(tmp_path):
    store, refs = _store(tmp_path, write_tiny_checkpoint(tmp_path / "tiny"))
    cache = tmp_path / "cache"
    stage(store.open, cache, "load-1", refs)
    cached = cache / "blobs" / refs[0].sha256
    cached.write_bytes(cached.read_bytes() + b" ")
    with pytest.raises(IntegrityFailure, match=r"config\.json: sha256 mismatch"):
        stage(store.open, cache, "load-2", refs)


def test_stage_refuses_paths_outside_the_model(tmp_path):
    store, refs = _store(tmp_path, write_tiny_checkpoint(tmp_path / "tiny"))
    from xerotier.errors import InvalidInput

    with pytest.raises(InvalidInput):
        stage(store.open, tmp_path / "cache", "l", [FileRef("../escape", refs[0].sha256, refs[0].size_bytes)])


def test_builtin_engine_reads_every_tensor_once(tmp_path):
    folder = write_tiny_checkpoint(tmp_path / "tiny")
    loaded = load_folder(folder)
    raw = (folder / "model.safetensors").read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    assert loaded.files == 1 and loaded.tensors == len(header) == 7
    assert loaded.bytes_read == len(raw) - 8 - length


def test_builtin_engine_rejects_a_tensor_past_the_end(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 8)
    with pytest.raises(EngineFailure, match=r"model\.safetensors: a tensor lies outside the file"):
        load_folder(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(EngineFailure, match=r"no \.safetensors file"):
        load_folder(tmp_path / "empty")


PLAN = {
    "contextLength": 45567,
    "maxSequences": 3,
    "gpuMemoryUtilization": 0.9,
    "tensorParallelSize": 2,
    "kvCacheDtype": "auto",
    "appliedQuantization": None,
    "quantizationReason": "native_fits",
    "device": "cuda",
    "moe": None,
}


def _flags(argv: list[str]) -> dict[str, str]:
    return {a: argv[i + 1] for i, a in enumerate(argv[:-1]) if a.startswith("--")}


def test_vllm_command_line_from_the_plan(tmp_path):
    argv, env = render_vllm("python -m vllm.entrypoints.cli.main", PLAN, tmp_path, "llama:1.0.0", 8011)
    assert argv[:5] == ["python", "-m", "vllm.entrypoints.cli.main", "serve", str(tmp_path)]
    flags = _flags(argv)
    assert flags["--max-model-len"] == "45567" and flags["--max-num-seqs"] == "3"
    assert flags["--gpu-memory-utilization"] == "0.9" and flags["--tensor-parallel-size"] == "2"
    assert flags["--kv-cache-dtype"] == "auto" and "--quantization" not in argv and env == {}


def test_vllm_command_line_for_quantized_cpu_and_moe_plans(tmp_path):
    fp4 = PLAN | {"appliedQuantization": "bitsandbytes-fp4", "quantizationReason": "runtime_quantization"}
    argv, _ = render_vllm("vllm", fp4, tmp_path, "m", 1)
    assert argv[argv.index("--quantization") + 1] == "bitsandbytes"
    assert (
        json.loads(argv[argv.index("--hf-overrides") + 1])["quantization_config"]["bnb_4bit_quant_type"]
        == "fp4"
    )
    awq = PLAN | {"appliedQuantization": "awq", "quantizationReason": "pre_quantized", "device": "cpu"}
    argv, _ = render_vllm("vllm", awq, tmp_path, "m", 1)
    assert argv[argv.index("--quantization") + 1] == "awq" and argv[-2:] == ["--device", "cpu"]
    moe = PLAN | {"moe": {"enabled": True, "configFile": "E=8,N=7168,device_name=NVIDIA_H100_80GB_HBM3.json"}}
    _, env = render_vllm("vllm", moe, tmp_path, "m", 1, moe_config_dir=tmp_path / "moe")
    assert env == {"VLLM_TUNED_CONFIG_FOLDER": str(tmp_path / "moe")}
