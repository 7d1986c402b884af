"""Pre-quantized checkpoints: method and bits recognised, packed weights unpacked for the count."""

from __future__ import annotations

import pytest

from support.configs import LLAMA31_8B, LLAMA_DIMS
from support.fields import seed, seed_fields
from support.sparse import (
    decoder_parameters,
    decoder_tensors,
    file_refs,
    open_local,
    quantize,
    write_checkpoint,
)
from xerotier.checkpoint import quantization
from xerotier.validation.inspect import inspect_checkpoint

MISTRAL_DIMS = {"layers": 32, "hidden": 4096, "inter": 14336, "vocab": 32000, "heads": 32, "kv_heads": 8}
MISTRAL_CONFIG = {
    "architectures": ["MistralForCausalLM"],
    "model_type": "mistral",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "num_hidden_layers": 32,
    "max_position_embeddings": 32768,
    "vocab_size": 32000,
}


def inspect(folder, fmt=None):
    return inspect_checkpoint(file_refs(folder), open_local, fmt, "").metadata


def test_gptq_4bit_from_quantization_config(tmp_path):
    config = {
        **LLAMA31_8B,
        "quantization_config": {
            "quant_method": "gptq",
            "bits": 4,
            "group_size": 128,
            "desc_act": True,
            "sym": True,
            "damp_percent": 0.01,
        },
        "torch_dtype": "float16",
    }
    folder = write_checkpoint(
        tmp_path / "gptq", config, quantize(decoder_tensors(**LLAMA_DIMS), "gptq"), shards=2
    )
    meta = inspect(folder)
    assert (meta.is_pre_quantized, meta.pre_quantization_method, meta.pre_quantization_bits) == (
        True,
        "gptq",
        4,
    )
    assert meta.parameter_count == decoder_parameters(**LLAMA_DIMS)  # qweight unpacked; scales etc. skipped
    assert meta.architecture == "llama" and "disagreements" not in meta.extra
    assert seed_fields(meta) == seed(
        folder,
        architecture="llama",
        parameter_count=decoder_parameters(**LLAMA_DIMS),
        context_length=131072,
        is_pre_quantized=True,
        pre_quantization_method="gptq",
        pre_quantization_bits=4.0,
    )


def test_gptq_from_a_standalone_quantize_config(tmp_path):
    folder = write_checkpoint(
        tmp_path / "gptq-standalone",
        MISTRAL_CONFIG,
        quantize(decoder_tensors(**MISTRAL_DIMS), "gptq", bits=8),
        files={"quantize_config.json": {"bits": 8, "group_size": 128, "desc_act": False, "sym": True}},
    )
    meta = inspect(folder)
    assert (meta.pre_quantization_method, meta.pre_quantization_bits) == ("gptq", 8)
    assert meta.extra["quantizationSource"] == "quantize_config.json"
    assert meta.parameter_count == decoder_parameters(**MISTRAL_DIMS)


def test_awq_4bit(tmp_path):
    config = {
        **MISTRAL_CONFIG,
        "quantization_config": {
            "quant_method": "awq",
            "bits": 4,
            "group_size": 128,
            "zero_point": True,
            "version": "gemm",
        },
    }
    folder = write_checkpoint(
        tmp_path / "awq", config, quantize(decoder_tensors(**MISTRAL_DIMS), "awq"), shards=2
    )
    meta = inspect(folder)
    assert (meta.pre_quantization_method, meta.pre_quantization_bits) == ("awq", 4)
    assert meta.parameter_count == decoder_parameters(**MISTRAL_DIMS)
    assert seed_fields(meta) == seed(
        folder,
        architecture="mistral",
        parameter_count=decoder_parameters(**MISTRAL_DIMS),
        context_length=32768,
        is_pre_quantized=True,
        pre_quantization_method="awq",
        pre_quantization_bits=4.0,
    )


def test_awq_from_quant_config_json_and_bits_from_shapes(tmp_path):
    folder = write_checkpoint(
        tmp_path / "awq-standalone",
        MISTRAL_CONFIG,
        quantize(decoder_tensors(**MISTRAL_DIMS), "awq"),
        files={"quant_config.json": {"zero_point": True, "q_group_size": 128, "version": "GEMM"}},
    )
    meta = inspect(folder)
    assert meta.pre_quantization_method == "awq"
    assert meta.pre_quantization_bits == 4  # qzeros packs out/8 columns: 32 × (out/8) / out


def test_compressed_tensors_w4a16(tmp_path):
    config = {
        **LLAMA31_8B,
        "quantization_config": {
            "quant_method": "compressed-tensors",
            "format": "pack-quantized",
            "config_groups": {
                "group_0": {
                    "targets": ["Linear"],
                    "weights": {
                        "num_bits": 4,
                        "type": "int",
                        "strategy": "group",
                        "group_size": 128,
                        "symmetric": True,
                    },
                    "input_activations": None,
                }
            },
            "ignore": ["lm_head"],
            "quantization_status": "compressed",
        },
    }
    tensors = quantize(decoder_tensors(**LLAMA_DIMS), "compressed-tensors")
    folder = write_checkpoint(tmp_path / "ct", config, tensors, shards=2)
    meta = inspect(folder)
    assert (meta.pre_quantization_method, meta.pre_quantization_bits) == ("compressed-tensors", 4)
    assert meta.parameter_count == decoder_parameters(**LLAMA_DIMS)  # weight_shape (I64) not counted
    assert seed_fields(meta) == seed(
        folder,
        architecture="llama",
        parameter_count=decoder_parameters(**LLAMA_DIMS),
        context_length=131072,
        is_pre_quantized=True,
        pre_quantization_method="compressed-tensors",
        pre_quantization_bits=4.0,
    )


def test_compressed_tensors_legacy_compression_config_key(tmp_path):
    config = {
        **MISTRAL_CONFIG,
        "compression_config": {
            "quant_method": "compressed_tensors",
            "config_groups": {"group_0": {"weights": {"num_bits": 8, "type": "float"}}},
        },
    }
    folder = write_checkpoint(tmp_path / "ct8", config, {"model.norm.weight": ("BF16", (4096,))})
    meta = inspect(folder)
    assert (meta.pre_quantization_method, meta.pre_quantization_bits) == ("compressed-tensors", 8)


def test_exl2_with_fractional_bits(tmp_path):
    config = {
        **MISTRAL_CONFIG,
        "quantization_config": {
            "quant_method": "exl2",
            "version": "0.1.8",
            "bits": 4.25,
            "head_bits": 6,
            "calibration": {"rows": 115, "length": 2048, "dataset": "(default)"},
        },
    }
    folder = write_checkpoint(
        tmp_path / "exl2",
        config,
        quantize(decoder_tensors(**MISTRAL_DIMS), "exl2"),
        files={"measurement.json": {"measurement": {}}},
    )
    meta = inspect(folder, fmt="safetensors")
    assert (meta.pre_quantization_method, meta.pre_quantization_bits) == ("exl2", 4.25)
    assert meta.format == "exl2"
    assert meta.parameter_count == decoder_parameters(**MISTRAL_DIMS)  # rows from q_invperm
    assert seed_fields(meta) == seed(
        folder,
        format="exl2",
        architecture="mistral",
        parameter_count=decoder_parameters(**MISTRAL_DIMS),
        context_length=32768,
        is_pre_quantized=True,
        pre_quantization_method="exl2",
        pre_quantization_bits=4.25,
    )


def test_exl2_without_quantization_config_is_recognised_from_tensors(tmp_path):
    folder = write_checkpoint(
        tmp_path / "exl2-bare", MISTRAL_CONFIG, quantize(decoder_tensors(**MISTRAL_DIMS), "exl2")
    )
    meta = inspect(folder)
    assert meta.pre_quantization_method == "exl2" and meta.format == "exl2"
    assert meta.pre_quantization_bits == pytest.approx(32 * (1 / 8 + 1 / 32))  # average bits of q_weight


def test_declared_format_exl2_without_exl2_signs_is_an_error(tmp_path):
    from xerotier.errors import ValidationFailed

    folder = write_checkpoint(tmp_path / "not-exl2", MISTRAL_CONFIG, {"model.norm.weight": ("BF16", (4096,))})
    with pytest.raises(ValidationFailed, match="format is exl2 but no exl2 tensors"):
        inspect(folder, fmt="exl2")


def test_gpt_oss_mxfp4(tmp_path):
    config = {
        "architectures": ["GptOssForCausalLM"],
        "model_type": "gpt_oss",
        "hidden_size": 2880,
        "num_attention_heads": 64,
        "num_key_value_heads": 8,
        "head_dim": 64,
        "num_hidden_layers": 1,
        "num_local_experts": 32,
        "num_experts_per_tok": 4,
        "experts_per_token": 4,
        "max_position_embeddings": 131072,
        "initial_context_length": 4096,
        "rope_scaling": {"rope_type": "yarn", "factor": 32.0, "original_max_position_embeddings": 4096},
        "quantization_config": {"quant_method": "mxfp4", "modules_to_not_convert": ["lm_head"]},
        "vocab_size": 201088,
    }
    p = "model.layers.0.mlp.experts."
    tensors = {
        p + "gate_up_proj_blocks": ("U8", (32, 5760, 90, 16)),
        p + "gate_up_proj_scales": ("U8", (32, 5760, 90)),
        p + "gate_up_proj_bias": ("BF16", (32, 5760)),
        p + "down_proj_blocks": ("U8", (32, 2880, 90, 16)),
        p + "down_proj_scales": ("U8", (32, 2880, 90)),
        p + "down_proj_bias": ("BF16", (32, 2880)),
    }
    meta = inspect(write_checkpoint(tmp_path / "gptoss", config, tensors))
    assert meta.architecture == "gpt-oss" and meta.extra["modelType"] == "gpt_oss"
    assert (meta.pre_quantization_method, meta.pre_quantization_bits) == ("mxfp4", 4)
    assert (meta.num_experts, meta.num_experts_per_tok) == (32, 4)
    assert meta.context_length == 4096 * 32 and meta.extra["headDim"] == 64
    assert meta.parameter_count == 32 * 5760 * 2880 + 32 * 5760 + 32 * 2880 * 2880 + 32 * 2880


def test_a_mirror_that_says_gptq_over_mxfp4_tensors_is_flagged(tmp_path):
    config = {"model_type": "gpt_oss", "quantization_config": {"quant_method": "gptq"}}
    tensors = {"e.down_proj_blocks": ("U8", (4, 2, 16)), "e.down_proj_scales": ("U8", (4, 2))}
    meta = inspect(write_checkpoint(tmp_path / "mirror", config, tensors))
    assert meta.pre_quantization_method == "gptq"
    assert meta.extra["disagreements"] == [
        "config.json quantization_config says gptq but the tensors look like mxfp4"
    ]


def test_bits_that_disagree_with_the_packing_are_flagged(tmp_path):
    config = {**MISTRAL_CONFIG, "quantization_config": {"quant_method": "gptq", "bits": 8}}
    folder = write_checkpoint(
        tmp_path / "liar", config, quantize(decoder_tensors(**MISTRAL_DIMS), "gptq", bits=4)
    )
    meta = inspect(folder)
    assert meta.pre_quantization_bits == 8
    assert meta.extra["disagreements"] == [
        "config.json quantization_config says 8 bits but the tensors pack 4"
    ]


def test_declared_total_parameters_are_kept_and_compared(tmp_path):
    dims = {"layers": 2, "hidden": 64, "inter": 128, "vocab": 256, "heads": 4, "kv_heads": 2}
    actual = decoder_parameters(**dims)
    folder = write_checkpoint(
        tmp_path / "declared",
        {"model_type": "llama"},
        decoder_tensors(**dims),
        shards=2,
        declare_parameters=actual + 1,
    )
    meta = inspect(folder)
    assert meta.parameter_count == actual
    assert meta.extra["declaredParameterCount"] == actual + 1
    assert meta.extra["disagreements"] == [
        f"model.safetensors.index.json declares {actual + 1} parameters; the tensors hold {actual}"
    ]


@pytest.mark.parametrize(
    ("block", "method", "bits"),
    [
        (
            {"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4"},
            "bitsandbytes",
            4,
        ),
        ({"quant_method": "bitsandbytes", "load_in_8bit": True}, "bitsandbytes", 8),
        ({"producer": {"name": "modelopt"}, "quantization": {"quant_algo": "NVFP4"}}, "modelopt_fp4", 4),
        ({"producer": {"name": "modelopt"}, "quantization": {"quant_algo": "FP8"}}, "modelopt", 8),
        ({"quant_method": "fbgemm_fp8", "activation_scale_ub": 1200.0}, "fbgemm_fp8", 8),
        ({"quant_method": "FP8", "fmt": "e4m3"}, "fp8", 8),
    ],
)
def test_other_pre_quantization_methods(block, method, bits):
    found = quantization.from_configs({"quantization_config": block}, {})
    assert (found.method, found.bits) == (method, bits)


def test_modelopt_legacy_hf_quant_config_file():
    found = quantization.from_configs(
        {},
        {"hf_quant_config.json": {"producer": {"name": "modelopt"}, "quantization": {"quant_algo": "FP8"}}},
    )
    assert (found.method, found.bits, found.source) == ("modelopt", 8, "hf_quant_config.json")


def test_nested_text_config_quantization():
    found = quantization.from_configs(
        {"text_config": {"quantization_config": {"quant_method": "awq", "bits": 4}}}, {}
    )
    assert (found.method, found.bits) == ("awq", 4)


def test_bitsandbytes_4bit_weights_count_two_values_a_byte(tmp_path):
    config = {
        "model_type": "llama",
        "quantization_config": {
            "quant_method": "bitsandbytes",
            "load_in_4bit": True,
            "bnb_4bit_quant_type": "nf4",
        },
    }
    p = "model.layers.0.mlp.down_proj.weight"
    tensors = {
        p: ("U8", (4096 * 14336 // 2, 1)),
        p + ".absmax": ("F32", (4096 * 14336 // 64,)),
        p + ".quant_map": ("F32", (16,)),
        p + ".quant_state.bitsandbytes__nf4": ("U8", (100,)),
        "model.norm.weight": ("BF16", (4096,)),
    }
    meta = inspect(write_checkpoint(tmp_path / "bnb", config, tensors))
    assert (meta.pre_quantization_method, meta.pre_quantization_bits) == ("bitsandbytes", 4)
    assert meta.parameter_count == 4096 * 14336 + 4096


def test_modelopt_nvfp4_weights_count_two_values_a_byte(tmp_path):
    config = {
        "model_type": "llama",
        "quantization_config": {"producer": {"name": "modelopt"}, "quantization": {"quant_algo": "NVFP4"}},
    }
    p = "model.layers.0.self_attn.o_proj."
    tensors = {
        p + "weight": ("U8", (4096, 4096 // 2)),
        p + "weight_scale": ("F8_E4M3", (4096, 4096 // 16)),
        p + "weight_scale_2": ("F32", ()),
        p + "input_scale": ("F32", ()),
    }
    meta = inspect(write_checkpoint(tmp_path / "nvfp4", config, tensors))
    assert (meta.pre_quantization_method, meta.pre_quantization_bits) == ("modelopt_fp4", 4)
    assert meta.parameter_count == 4096 * 4096
