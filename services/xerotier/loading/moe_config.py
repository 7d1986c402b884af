"""Tuned fused-MoE kernel configuration files, named exactly as vLLM names them (pure).

vLLM ``vllm/model_executor/layers/fused_moe/fused_moe.py`` ``get_config_file_name`` (adapted from
sglang PR 2628): ``E={experts on one rank},N={intermediate size on one rank},device_name={device}``
then ``,dtype={dtype}`` when the kernel is quantized and ``,block_shape=[n,k]`` (spaces removed) for
block-quantized weights, then ``.json``. Devices of the H200 family are all named ``NVIDIA_H200``.
A default configuration is used when no file matches.
"""

from __future__ import annotations

#: quantization method → vLLM's ``get_config_dtype_str`` (none for 16-bit weights and bitsandbytes).
MOE_DTYPES: dict[str, str] = {
    "fp8": "fp8_w8a8",
    "fbgemm_fp8": "fp8_w8a8",
    "gptq": "int4_w4a16",
    "awq": "int4_w4a16",
    "mxfp4": "mxfp4_w4a4",
}


def moe_config_name(
    experts: int,
    shard_intermediate: int,
    device_name: str,
    method: str | None,
    block_shape: list[int] | None = None,
    bits: float | None = None,
) -> str:
    device = device_name.replace(" ", "_")
    if "H200" in device.split("_"):
        device = "NVIDIA_H200"
    dtype = MOE_DTYPES.get(method or "")
    if method in ("gptq", "awq") and bits == 8:
        dtype = "int8_w8a16"
    if method == "compressed-tensors" and bits == 8:
        dtype = "fp8_w8a8"
    dtype_part = f",dtype={dtype}" if dtype else ""
    block_part = f",block_shape={block_shape}".replace(" ", "") if block_shape and all(block_shape) else ""
    return f"E={experts},N={shard_intermediate},device_name={device}{dtype_part}{block_part}.json"
