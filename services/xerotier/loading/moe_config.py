"""Tuned fused-MoE kernel configuration files, named as vLLM and sglang name them (pure).

``E={experts},N={intermediate per tensor-parallel shard},device_name={device}[,dtype={dtype}].json``
(vLLM ``fused_moe/configs/README``); a default configuration is used when no file matches.
"""

from __future__ import annotations

#: quantization method → the ``dtype`` part of the file name (none for 16-bit weights).
MOE_DTYPES: dict[str, str] = {
    "fp8": "fp8_w8a8",
    "bitsandbytes": "int8_w8a16",
    "gptq": "int4_w4a16",
    "awq": "int4_w4a16",
    "mxfp4": "mxfp4_w4a4",
}


def moe_config_name(experts: int, shard_intermediate: int, device_name: str, method: str | None) -> str:
    dtype = MOE_DTYPES.get(method or "")
    suffix = f",dtype={dtype}" if dtype else ""
    return f"E={experts},N={shard_intermediate},device_name={device_name.replace(' ', '_')}{suffix}.json"
