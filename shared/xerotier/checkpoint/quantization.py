"""Pre-quantization recognition from configs and tensor markers (pure; loading.md §4).

Config order (vLLM ``_parse_quant_hf_config``): ``quantization_config``, ``compression_config``, the
text config's copy, then standalone files — ``quantize_config.json`` (AutoGPTQ, or AWQ when it has
``zero_point`` / ``version == "GEMM"``: TGI ``utils/quantization.py``), ``quant_config.json`` (AutoAWQ),
``hf_quant_config.json`` (modelopt ≤ 0.29). Tensor markers in the headers confirm or supply the method.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from xerotier.checkpoint import families as fam
from xerotier.checkpoint.config_fields import text_config
from xerotier.checkpoint.safetensors_header import TensorInfo


@dataclass
class Quantization:
    method: str | None = None
    bits: float | None = None
    source: str | None = None  # where the method was read
    marker_method: str | None = None  # what the tensors look like
    marker_bits: float | None = None
    disagreements: list[str] = field(default_factory=list)

    @property
    def is_pre_quantized(self) -> bool:
        return self.method is not None


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return float(value)


def normalise_method(raw: object) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    method = raw.strip().lower()
    return "compressed-tensors" if method == "compressed_tensors" else method


#: Marker → declared methods it is consistent with (GPTQ vs AWQ differ only by g_idx; FP8 weights
#: with scales appear under compressed-tensors, modelopt and fbgemm too).
CONSISTENT: dict[str, frozenset[str]] = {
    "gptq": frozenset({"gptq", "awq"}),
    "awq": frozenset({"gptq", "awq"}),
    "fp8": frozenset({"fp8", "fbgemm_fp8", "compressed-tensors", "modelopt", "quark"}),
}


def consistent(marker: str, declared: str) -> bool:
    return marker == declared or declared in CONSISTENT.get(marker, frozenset())


def _from_block(block: dict[str, Any]) -> tuple[str | None, float | None]:
    """Method and bits of one ``quantization_config``-shaped object."""
    producer = block.get("producer")
    nested = block.get("quantization")
    quant: dict[str, Any] = nested if isinstance(nested, dict) else block
    if (isinstance(producer, dict) and producer.get("name") == "modelopt") or "quant_algo" in quant:
        algo = str(quant.get("quant_algo") or "").upper()
        modelopt_method, modelopt_bits = fam.MODELOPT_ALGO_BITS.get(algo, ("modelopt", None))
        return modelopt_method, float(modelopt_bits) if modelopt_bits else None
    method = normalise_method(block.get("quant_method"))
    if method == "compressed-tensors":
        return method, _compressed_tensors_bits(block)
    if method in ("fp8", "fbgemm_fp8"):
        return method, 8.0
    if method == "mxfp4":
        return method, 4.0
    if method == "bitsandbytes":
        four = block.get("load_in_4bit") or block.get("_load_in_4bit")
        eight = block.get("load_in_8bit") or block.get("_load_in_8bit")
        return method, 4.0 if four else 8.0 if eight else None
    declared = _num(block.get("bits")) or _num(block.get("w_bit")) or _num(block.get("nbits"))
    return method, declared


def _compressed_tensors_bits(block: dict[str, Any]) -> float | None:
    groups = block.get("config_groups")
    found = [
        _num(g["weights"].get("num_bits"))
        for g in (groups.values() if isinstance(groups, dict) else [])
        if isinstance(g, dict) and isinstance(g.get("weights"), dict)
    ]
    bits = [b for b in found if b]
    return max(bits) if bits else None


def _standalone(name: str, doc: dict[str, Any]) -> tuple[str | None, float | None]:
    if name == "hf_quant_config.json":
        return _from_block(doc)
    method = normalise_method(doc.get("quant_method"))
    if method is None:
        awq = "zero_point" in doc or str(doc.get("version", "")).upper() == "GEMM" or "w_bit" in doc
        method = "awq" if awq else "gptq"
    return method, _num(doc.get("bits")) or _num(doc.get("w_bit"))


def from_configs(config: dict[str, Any] | None, standalone: dict[str, dict[str, Any]]) -> Quantization:
    """Method and bits declared by the configs, first source wins."""
    found = Quantization()
    candidates: list[tuple[str, object]] = []
    if config:
        candidates += [
            ("config.json quantization_config", config.get("quantization_config")),
            ("config.json compression_config", config.get("compression_config")),
            ("config.json text_config.quantization_config", text_config(config).get("quantization_config")),
        ]
    for source, block in candidates:
        if isinstance(block, dict) and block:
            found.method, found.bits = _from_block(block)
            if found.method:
                found.source = source
                return found
    for name in ("quantize_config.json", "quant_config.json", "hf_quant_config.json"):
        if name in standalone:
            found.method, found.bits = _standalone(name, standalone[name])
            found.source = name
            return found
    return found


#: Leaf names that only quantized checkpoints have.
MARKER_LEAVES = frozenset(
    {"q_weight", "weight_packed", "qweight", "absmax", "SCB", "weight_scale_inv", "weight_scale"}
)


def has_markers(leaf_set: set[str]) -> bool:
    """Whether any tensor name ends in a quantization marker (cheap: leaf names only)."""
    return bool(leaf_set & MARKER_LEAVES) or any(
        leaf.endswith("_blocks") or leaf.startswith("bitsandbytes__") for leaf in leaf_set
    )


def markers(
    tensors: Iterable[TensorInfo], leaf_set: set[str] | None = None
) -> tuple[str | None, float | None]:
    """The quantization the tensor names and dtypes show, and the bits they imply when they do."""
    tensors = list(tensors)
    if leaf_set is None:
        leaf_set = {t.name[t.name.rfind(".") + 1 :] for t in tensors}
    if not has_markers(leaf_set):
        return None, None  # the common unquantized case, without grouping by module
    leaves: dict[str, dict[str, TensorInfo]] = {}
    for info in tensors:
        module, _, leaf = info.name.rpartition(".")
        leaves.setdefault(leaf, {})[module] = info
    if "q_weight" in leaves and ("q_invperm" in leaves or "q_scale" in leaves):
        return "exl2", _exl2_bits(leaves)
    if "weight_packed" in leaves:
        return "compressed-tensors", None
    if "qweight" in leaves:
        method = "gptq" if "g_idx" in leaves else "awq"
        return method, _packed_bits(leaves)
    if any(leaf.endswith("_blocks") for leaf in leaves) and any(leaf.endswith("_scales") for leaf in leaves):
        return "mxfp4", 4.0
    if "absmax" in leaves or any(leaf.startswith("bitsandbytes__") for leaf in leaves) or "SCB" in leaves:
        return "bitsandbytes", 8.0 if "SCB" in leaves else 4.0
    if "weight_scale_inv" in leaves or (
        "weight_scale" in leaves and any(t.dtype.startswith("F8_") for t in leaves.get("weight", {}).values())
    ):
        return "fp8", 8.0
    return None, None


def _exl2_bits(leaves: dict[str, dict[str, TensorInfo]]) -> float | None:
    """Average bits per weight of exl2 ``q_weight`` rows (32 bits per I32 over in × out weights)."""
    packed = weights = 0
    for module, q_weight in leaves["q_weight"].items():
        invperm = leaves.get("q_invperm", {}).get(module)
        if invperm is not None and len(q_weight.shape) == 2:
            packed += q_weight.numel * 32
            weights += invperm.numel * q_weight.shape[1]
    return round(packed / weights, 2) if weights else None


def _packed_bits(leaves: dict[str, dict[str, TensorInfo]]) -> float | None:
    """GPTQ/AWQ bits from shapes: qzeros packs out_features × bits / 32 columns, scales has out_features."""
    for module, zeros in leaves.get("qzeros", {}).items():
        scales = leaves.get("scales", {}).get(module)
        if scales and len(zeros.shape) == 2 and len(scales.shape) == 2 and scales.shape[1]:
            return 32 * zeros.shape[1] / scales.shape[1]
    return None


def resolve(
    declared: Quantization, tensors: Iterable[TensorInfo], leaf_set: set[str] | None = None
) -> Quantization:
    """Combine declared and observed quantization; record where they disagree."""
    marker_method, marker_bits = markers(tensors, leaf_set)
    declared.marker_method, declared.marker_bits = marker_method, marker_bits
    if declared.method is None:
        if marker_method is not None:
            declared.method, declared.bits, declared.source = marker_method, marker_bits, "tensor markers"
        return declared
    if marker_method is None:
        return declared
    if not consistent(marker_method, declared.method):
        declared.disagreements.append(
            f"{declared.source} says {declared.method} but the tensors look like {marker_method}"
        )
        return declared
    if declared.bits is None:
        declared.bits = marker_bits
    elif marker_bits and declared.bits != marker_bits and marker_method != "exl2":  # exl2 bpw counts scales
        declared.disagreements.append(
            f"{declared.source} says {declared.bits:g} bits but the tensors pack {marker_bits:g}"
        )
    return declared
