"""Parameter counts from tensor headers, right for packed quantized weights (pure; loading.md §4).

Per module (the tensor name up to its last dot): a packed weight is unpacked by its method and bits —
GPTQ/AWQ ``qweight`` and compressed-tensors ``weight_packed`` hold 32/bits values per I32, exl2
``q_weight`` has ``len(q_invperm)`` input rows, MXFP4 ``*_blocks`` and 4-bit bitsandbytes / NVFP4
``weight`` hold two values per byte — and its quantization side tensors (scales, zeros, ``g_idx``,
permutations, absmax …) are not parameters. Non-float buffers (``position_ids``, masks) and rotary
``inv_freq`` are not counted either (huggingface_hub counts ``prod(shape)``, which under-counts packs).
"""

from __future__ import annotations

from collections.abc import Iterable

from xerotier.checkpoint.safetensors_header import FLOAT_DTYPES, TensorInfo

PACKED_LEAVES = frozenset({"qweight", "weight_packed", "q_weight"})
#: Side tensors of quantized modules and fp8/int8 scales: never parameters.
SIDE_LEAVES = frozenset(
    {
        "qzeros",
        "scales",
        "g_idx",
        "weight_scale",
        "weight_scale_inv",
        "weight_scale_2",
        "weight_zero_point",
        "weight_g_idx",
        "weight_shape",
        "weight_global_scale",
        "input_scale",
        "input_global_scale",
        "input_zero_point",
        "output_scale",
        "k_scale",
        "v_scale",
        "q_scale",
        "q_scale_max",
        "q_groups",
        "q_perm",
        "q_invperm",
        "absmax",
        "quant_map",
        "nested_absmax",
        "nested_quant_map",
        "SCB",
        "weight_format",
        "inv_freq",
        "position_ids",
        "masked_bias",
    }
)


def needs_inspection(leaves: set[str]) -> bool:
    """Whether tensors with these leaf names need more than summing the float tensors."""
    return bool(leaves & (SIDE_LEAVES | PACKED_LEAVES)) or any(
        leaf.endswith(("_scales", "_blocks")) or leaf.startswith("bitsandbytes__") for leaf in leaves
    )


def count_parameters(tensors: Iterable[TensorInfo], method: str | None, bits: float | None) -> int:
    """Parameters of the model whose tensors are ``tensors``, quantized with ``method`` at ``bits``."""
    by_name = {t.name: t for t in tensors}
    total = 0
    for name, info in by_name.items():
        cut = name.rfind(".")
        leaf = name[cut + 1 :]
        if leaf in SIDE_LEAVES:
            continue
        if info.dtype in FLOAT_DTYPES and not leaf.endswith("_scales"):
            total += info.numel  # the common case, decided without looking at siblings
            continue
        total += _count(name[:cut], leaf, info, by_name, method, bits)
    return total


def _count(
    module: str,
    leaf: str,
    info: TensorInfo,
    by_name: dict[str, TensorInfo],
    method: str | None,
    bits: float | None,
) -> int:
    if leaf.startswith("quant_state"):
        return 0
    if leaf.endswith("_scales") and f"{module}.{leaf[: -len('_scales')]}_blocks" in by_name:
        return 0  # MXFP4 E8M0 block scales
    if leaf == "q_weight":
        invperm = by_name.get(f"{module}.q_invperm")
        if invperm is not None and len(info.shape) == 2:
            return invperm.numel * info.shape[1]
        return int(info.numel * 32 / (bits or 4))
    if leaf in ("qweight", "weight_packed"):
        return int(info.numel * 32 / (bits or 4))
    if leaf.endswith("_blocks") and info.dtype == "U8":
        return info.numel * 2  # MXFP4: two 4-bit values per byte
    if leaf == "weight" and info.dtype == "U8" and _four_bit_bytes(module, by_name, method, bits):
        return info.numel * 2
    if info.dtype in FLOAT_DTYPES:
        return info.numel
    if leaf == "weight" and info.dtype in ("I8", "U8"):
        return info.numel  # int8 weights (bitsandbytes 8-bit, w8a8)
    return 0  # integer buffers: position_ids, token_type ids, masks


def _four_bit_bytes(
    module: str, by_name: dict[str, TensorInfo], method: str | None, bits: float | None
) -> bool:
    """Whether a U8 ``weight`` packs two 4-bit values a byte (bitsandbytes 4-bit, NVFP4)."""
    if f"{module}.weight.absmax" in by_name or f"{module}.absmax" in by_name:
        return True
    if any(f"{module}.weight.quant_state.bitsandbytes__{kind}" in by_name for kind in ("nf4", "fp4")):
        return True
    return method in ("modelopt_fp4", "modelopt", "bitsandbytes") and bits == 4
