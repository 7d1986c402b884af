"""What the planner reads, read as vLLM reads it: transformers' config defaults, sliding layers,
fused experts, sentence-transformers lengths, index-named weights, GGUF, and one derivation for a
local checkpoint and a registered one. Sparse full-shape checkpoints of real public configs
(``support.public_configs`` names the Hub repository of each)."""

from __future__ import annotations

import json

import pytest

from support.public_configs import (
    COMMAND_R,
    COMMAND_R_PARAMETERS,
    FALCON_7B,
    FALCON_7B_PARAMETERS,
    GEMMA3_1B,
    GEMMA3_1B_PARAMETERS,
    GEMMA3_27B,
    GPT_OSS_20B_BF16,
    GPT_OSS_20B_PARAMETERS,
    MINILM_L6,
    MINILM_L6_PARAMETERS,
    MISTRAL_7B_V03,
    MISTRAL_7B_V03_DIMS,
    MISTRAL_7B_V03_PARAMETERS,
    as_header,
    command_r_tensors,
    falcon_7b_tensors,
    gemma3_1b_tensors,
    gemma3_27b_text_tensors,
    gpt_oss_bf16_tensors,
    minilm_tensors,
    mistral_consolidated_tensors,
)
from support.sparse import decoder_tensors, file_refs, open_local, write_checkpoint, write_safetensors
from xerotier.api.schemas import ModelOut
from xerotier.checkpoint import config_fields, hf_config
from xerotier.cli.ctl_inspect import inspect_path
from xerotier.cli.local_checkpoint import inspect_local, local_shape, stored_headers
from xerotier.errors import InvalidInput
from xerotier.loading.model_shape import model_shape, sliding_layer_count
from xerotier.loading.shape_inputs import shape_from
from xerotier.upload.formats import detect_format, unknown_format_message
from xerotier.validation.inspect import SENTENCE_CONFIGS, inspect_checkpoint


def inspect(folder):  # type: ignore[no-untyped-def]
    return inspect_checkpoint(file_refs(folder), open_local, None, folder.name)


# --- class 9: config defaults through transformers' configuration classes -------------------------


def test_gemma3_context_comes_from_transformers_defaults(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # google/gemma-3-27b-it's text_config has no max_position_embeddings: the raw JSON gives nothing,
    # vLLM (AutoConfig) reads Gemma3TextConfig's default 131,072 (already scaled: no rope factor)
    assert config_fields.context_length(GEMMA3_27B) == (None, None)
    assert config_fields.context_length(hf_config.resolve(GEMMA3_27B))[0] == 131072
    folder = write_checkpoint(tmp_path / "gemma-3-27b-it", GEMMA3_27B, gemma3_27b_text_tensors(), shards=2)
    meta = inspect(folder).metadata
    assert meta.context_length == 131072 and meta.is_multimodal
    shape = model_shape("g", GEMMA3_27B, [as_header(gemma3_27b_text_tensors())])
    assert (shape.context_length, shape.kv_heads, shape.head_dim) == (131072, 16, 128)
    # every 6th of 62 layers is global: 10 full, 52 sliding of transformers' default window 1024
    assert (shape.full_attention_layers, shape.sliding_layers, shape.sliding_window) == (10, 52, 1024)


def test_falcon_defaults_and_multi_query_kv_heads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = write_checkpoint(tmp_path / "falcon-7b", FALCON_7B, falcon_7b_tensors())
    meta = inspect(folder).metadata
    # FalconConfig's max_position_embeddings default 2048; multi_query without the new decoder: one
    # KV head (vLLM get_total_num_kv_heads), though transformers sets num_kv_heads = 71
    assert meta.context_length == 2048 and meta.extra["numKeyValueHeads"] == 1
    assert meta.parameter_count == FALCON_7B_PARAMETERS  # 6,921,720,704 published
    new_decoder = {**FALCON_7B, "new_decoder_architecture": True, "num_kv_heads": 8}
    assert config_fields.attention_shape(hf_config.resolve(new_decoder))["numKeyValueHeads"] == 8


def test_unknown_model_types_and_refused_documents_fall_back_to_the_raw_json() -> None:
    raw = {"model_type": "not_a_transformers_type", "max_position_embeddings": 4096}
    assert hf_config.resolve(raw) == raw
    assert hf_config.resolve({"hidden_size": 8}) == {"hidden_size": 8}  # no model_type


# --- class 7: sliding-window layers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "layers", "sliding"),
    [
        ({"model_type": "gemma3_text", "sliding_window": 512, "sliding_window_pattern": 6}, 26, 22),
        ({"model_type": "gemma3_text", "sliding_window": 1024}, 62, 52),  # pattern defaults to 6
        ({"model_type": "gemma2", "sliding_window": 4096}, 42, 21),  # every other layer
        ({"model_type": "gpt_oss", "sliding_window": 128, "layer_types": ["sliding_attention",
                                                                          "full_attention"] * 12}, 24, 12),
        ({"model_type": "llama"}, 32, 0),
    ],
    ids=["gemma3-1b", "gemma3-27b", "gemma2-9b", "gpt-oss", "llama"],
)  # fmt: skip
def test_sliding_layers_from_the_raw_json(config, layers, sliding) -> None:  # type: ignore[no-untyped-def]
    assert sliding_layer_count(config, layers) == sliding


def test_gemma3_1b_parameters_and_kv_shape(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = write_checkpoint(tmp_path / "gemma-3-1b-it", GEMMA3_1B, gemma3_1b_tensors())
    assert inspect(folder).metadata.parameter_count == GEMMA3_1B_PARAMETERS  # 999,885,952
    shape = local_shape(folder)
    assert (shape.full_attention_layers, shape.sliding_layers, shape.sliding_window) == (4, 22, 512)


# --- class 3: fused 3-D experts are quantizable ---------------------------------------------------


def test_fused_expert_stacks_count_as_quantizable_weights() -> None:
    shape = model_shape("oss", GPT_OSS_20B_BF16, [as_header(gpt_oss_bf16_tensors())])
    assert shape.parameter_count == GPT_OSS_20B_PARAMETERS
    experts = 24 * 32 * (2880 * 5760 + 2880 * 2880)  # gate_up_proj [32, 2880, 5760] + down_proj
    attention = 24 * (2 * 4096 * 2880 + 2 * 512 * 2880)  # q, o (64 × 64 = 4096) and k, v (8 × 64)
    assert shape.quantizable_params == experts + attention
    assert shape.quantizable_bytes == 2 * (experts + attention)


# --- class 10: one derivation; the seven sentence-transformers files ------------------------------


def test_a_local_checkpoint_and_a_registered_one_get_the_same_shape(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = write_checkpoint(tmp_path / "c4ai-command-r-v01", COMMAND_R, command_r_tensors(), shards=3)
    found = inspect(folder)
    # Command-R: model_max_length 131,072 overrides the 8,192 positions (vLLM's Cohere rule)
    assert found.metadata.context_length == 131072
    assert found.metadata.parameter_count == COMMAND_R_PARAMETERS
    local = local_shape(folder)
    # the plan by model ID reads the stored columns, the config blob and the stored headers
    row = found.metadata.as_values(set_workload_type=False)
    registered = shape_from("c4ai-command-r-v01", found.config, stored_headers(found), row)
    assert local == registered and local.context_length == 131072


@pytest.mark.parametrize("name", SENTENCE_CONFIGS)
def test_every_sentence_transformers_config_name_is_read(tmp_path, name) -> None:  # type: ignore[no-untyped-def]
    files = {name: {"max_seq_length": 256, "do_lower_case": False}, "modules.json": []}
    folder = write_checkpoint(tmp_path / "all-MiniLM-L6-v2", MINILM_L6, minilm_tensors(), files=files)
    meta = inspect(folder).metadata
    assert meta.context_length == 256 and meta.suggested_workload_type == "embedding"
    assert meta.parameter_count == MINILM_L6_PARAMETERS  # 22,713,216
    assert local_shape(folder).context_length == 256


# --- class 11: HF shards + index and a consolidated.safetensors -----------------------------------


def test_a_mistral_snapshot_validates_what_the_index_names(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = write_checkpoint(
        tmp_path / "Mistral-7B-Instruct-v0.3",
        MISTRAL_7B_V03,
        decoder_tensors(**MISTRAL_7B_V03_DIMS),
        shards=3,
        files={"params.json": {"dim": 4096, "n_layers": 32}, "tokenizer.model.v3": b"\x00"},
    )
    write_safetensors(folder / "consolidated.safetensors", mistral_consolidated_tensors())
    found = inspect(folder)
    meta = found.metadata
    assert meta.parameter_count == MISTRAL_7B_V03_PARAMETERS  # not twice: the copy is not counted
    assert meta.extra["ignoredWeightFiles"] == ["consolidated.safetensors"]
    assert meta.extra["engineWeightFiles"] == [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
    assert "disagreements" not in meta.extra and "consolidated.safetensors" not in found.headers
    assert local_shape(folder).weight_bytes == 2 * MISTRAL_7B_V03_PARAMETERS


def test_a_shard_the_index_does_not_name_but_shares_tensors_with_is_still_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    tensors = decoder_tensors(**{**MISTRAL_7B_V03_DIMS, "layers": 2})
    folder = write_checkpoint(tmp_path / "m", {**MISTRAL_7B_V03, "num_hidden_layers": 2}, tensors, shards=2)
    write_safetensors(folder / "extra.safetensors", {"model.norm.weight": ("BF16", (4096,))})
    local = inspect_local(folder)
    assert local.inspection is None
    assert local.problems == [
        "model-00002-of-00002.safetensors: tensor 'model.norm.weight' is also in extra.safetensors"
    ]


# --- class 12: GGUF ------------------------------------------------------------------------------


def test_a_gguf_only_upload_is_told_gguf_is_not_supported(tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = ["model-Q4_K_M.gguf", "README.md"]
    assert detect_format(paths) is None
    message = unknown_format_message(paths)
    assert message.startswith(
        "Cannot tell the model's format from its files: GGUF (.gguf) is not a supported"
    )
    assert "experimental" in message and "safetensors" in message
    assert unknown_format_message(["README.md"]).startswith(
        "Cannot tell the model's format from its files (no"
    )
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "model.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")
    local = inspect_local(tmp_path / "g")
    assert local.inspection is None and "GGUF (.gguf) is not a supported format" in local.problems[0]
    with pytest.raises(InvalidInput, match="validation would refuse it"):
        local_shape(tmp_path / "g")


# --- xeroctl models inspect: the API's field names --------------------------------------------------


def test_inspect_json_uses_the_field_names_of_get_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = write_checkpoint(
        tmp_path / "falcon-7b",
        FALCON_7B,
        falcon_7b_tensors(),
        files={"README.md": "---\nlicense: apache-2.0\n---\n"},
    )
    found = inspect_path(folder)
    api = set(ModelOut.model_fields)  # the fields of GET /v1/models/{id}
    shared = {k for k in found if k in api}
    assert {"format", "parameterCount", "contextLength", "license", "modelType", "extraMetadata"} <= shared
    assert (found["status"], found["format"], found["contextLength"]) == ("ready", "safetensors", 2048)
    assert (found["parameterCount"], found["license"]) == (FALCON_7B_PARAMETERS, "apache-2.0")
    assert found["engineWeightFiles"] == ["model.safetensors"] and found["problems"] == []
    json.dumps(found)  # printable as JSON
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    (bad / "model.safetensors").write_bytes(b"\x01")
    refused = inspect_path(bad)
    assert refused["status"] == "error" and refused["problems"] and refused["validationError"]
