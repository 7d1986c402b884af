"""The load planner: (model shape, device inventory, options) → load plan. Pure and fast.

Follows what serving engines do (reference/loading.md §3): a budget of ``total × utilization``
(never more than the free memory), less the exact weight bytes and a reserve for activations and
CUDA graphs; the KV cache gets the rest. Context length is the model's, clamped to what the KV
budget holds; max sequences is what the KV budget holds at that length, capped like vLLM's
defaults. Quantization: the checkpoint's own method when pre-quantized; else native when the
weights, the reserve and a minimum context fit; else the first runtime method that fits and that
the device supports; else ``cannot_fit`` with the numbers that prove it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xerotier.domain.inventory import Inventory
from xerotier.loading.model_shape import ModelShape
from xerotier.loading.moe_config import moe_config_name

GIB = 1 << 30
RESERVE_MIN = 1 * GIB
RESERVE_FRACTION = 0.05
#: Runtime methods in order of preference: (name, bytes per converted weight, minimum capability).
RUNTIME_METHODS: tuple[tuple[str, float, float], ...] = (
    ("fp8", 1.0, 8.9),
    ("bitsandbytes", 1.0, 7.0),
    ("bitsandbytes-fp4", 0.5 + 4 / 64, 7.0),  # 4-bit values + one fp32 absmax per 64-value block
    ("bitsandbytes-nf4", 0.5 + 4 / 64, 7.0),
)
#: Minimum compute capability of the kernels that serve pre-quantized checkpoints in vLLM.
PRE_QUANT_MIN_CC: dict[str, float] = {"awq": 7.5, "gptq": 6.0, "fp8": 8.0, "mxfp4": 8.0}


@dataclass(frozen=True)
class PlanOptions:
    gpu_memory_utilization: float = 0.90
    min_context: int = 8192
    max_model_len: int | None = None  # a user's cap on the context length
    kv_cache_dtype: str = "auto"  # auto (16-bit) | fp8
    enable_moe_config: bool = False
    moe_config_files: frozenset[str] = frozenset()
    allow_runtime_quantization: bool = True


@dataclass
class LoadPlan:
    fits: bool
    quantization_reason: str  # native_fits | pre_quantized | runtime_quantization | cannot_fit
    applied_quantization: str | None
    context_length: int
    max_sequences: int
    tensor_parallel_size: int
    gpu_memory_utilization: float
    kv_cache_dtype: str
    memory: dict[str, int]
    reasons: list[str] = field(default_factory=list)
    moe: dict[str, Any] | None = None
    device: str = "cuda"

    def to_json(self) -> dict[str, Any]:
        return {
            "fits": self.fits,
            "appliedQuantization": self.applied_quantization,
            "quantizationReason": self.quantization_reason,
            "contextLength": self.context_length,
            "maxSequences": self.max_sequences,
            "tensorParallelSize": self.tensor_parallel_size,
            "gpuMemoryUtilization": self.gpu_memory_utilization,
            "kvCacheDtype": self.kv_cache_dtype,
            "device": self.device,
            "memory": dict(self.memory),
            "moe": self.moe,
            "reasons": list(self.reasons),
        }


def gib(n: float) -> str:
    """Bytes for people: GiB, or MiB below a tenth of a GiB."""
    return f"{n / GIB:,.2f} GiB" if n == 0 or abs(n) >= GIB // 10 else f"{n / (1 << 20):,.2f} MiB"


def kv_bytes_per_layer_token(shape: ModelShape, kv_cache_dtype: str) -> int:
    """K and V of one token in one layer; MLA caches one latent vector (no factor 2)."""
    elem = 1 if kv_cache_dtype == "fp8" else 2
    return shape.kv_heads * shape.head_dim * elem * (1 if shape.is_mla else 2)


def max_seqs_cap(inventory: Inventory) -> int:
    """vLLM's API-server default: 1024 on ≥ 70 GiB GPUs other than A100, else 256; 128 on CPU."""
    if inventory.device == "cpu":
        return 128
    gpu = inventory.gpus[0]
    return 1024 if gpu.memory_bytes >= 70 * GIB and "a100" not in gpu.name.lower() else 256


def budget_of(inventory: Inventory, utilization: float) -> int:
    total = 0
    for gpu in inventory.gpus:
        share = int(gpu.memory_bytes * utilization)
        total += min(share, gpu.free_bytes) if gpu.free_bytes is not None else share
    return total


def plan_key(inventory: Inventory, options: PlanOptions) -> tuple:
    """Everything of an inventory a plan depends on: equal keys get equal plans (for caching)."""
    first = inventory.gpus[0]
    return (
        inventory.device,
        len(inventory.gpus),
        inventory.total_bytes,
        budget_of(inventory, options.gpu_memory_utilization),
        _min_cc(inventory),
        max_seqs_cap(inventory),
        first.device_name or first.name,
        options,
    )


def _weights_with(shape: ModelShape, bytes_per_weight: float) -> int:
    converted = int(shape.quantizable_params * bytes_per_weight)
    return shape.weight_bytes - shape.quantizable_bytes + converted


def _min_cc(inventory: Inventory) -> float | None:
    low: float | None = None
    for gpu in inventory.gpus:
        if gpu.compute_capability is None:
            return None
        if low is None or gpu.compute_capability < low:
            low = gpu.compute_capability
    return low


def _fixed_costs(shape: ModelShape, inventory: Inventory, opts: PlanOptions) -> tuple[int, int, int]:
    """(budget, reserve, KV cache of one minimum-context sequence): what every fit decision weighs.

    Weights of ``w`` bytes fit when ``w + reserve + min_kv <= budget``.
    """
    budget = budget_of(inventory, opts.gpu_memory_utilization)
    reserve = max(RESERVE_MIN * len(inventory.gpus), int(RESERVE_FRACTION * budget))
    per_layer = kv_bytes_per_layer_token(shape, opts.kv_cache_dtype)
    min_ctx = min(opts.min_context, shape.context_length, opts.max_model_len or shape.context_length)
    min_kv = per_layer * (
        shape.full_attention_layers * min_ctx + shape.sliding_layers * min(shape.sliding_window, min_ctx)
    )
    return budget, reserve, min_kv


def quick_fit(shape: ModelShape, inventory: Inventory, options: PlanOptions | None = None) -> str:
    """What ``plan_load`` can answer, by its own arithmetic, without building a plan.

    ``"native"``: it answers ``native_fits``. ``"none"``: nothing fits, since even the smallest
    weights the planner may pick exceed the budget. ``"maybe"``: only a plan can tell.
    """
    opts = options or PlanOptions()
    if not inventory.gpus:
        return "none"
    budget, reserve, min_kv = _fixed_costs(shape, inventory, opts)
    room = budget - reserve - min_kv  # what the weights may take
    if shape.pre_quant_method:
        return "maybe" if shape.weight_bytes <= room else "none"
    if shape.weight_bytes <= room:
        return "native"
    if opts.allow_runtime_quantization:
        smallest = min(_weights_with(shape, per_weight) for _, per_weight, _ in RUNTIME_METHODS)
        if smallest <= room:
            return "maybe"
    return "none"


def plan_load(
    shape: ModelShape, inventory: Inventory, options: PlanOptions | None = None, *, explain: bool = True
) -> LoadPlan:
    """The load plan of ``shape`` on ``inventory`` (all GPUs of the inventory, tensor parallel).

    ``explain=False`` skips the sentences of ``reasons`` (placement ranks many backends with it,
    then explains only the plan it keeps).
    """
    opts = options or PlanOptions()
    if not inventory.gpus:
        raise ValueError("an inventory needs at least one device")
    tp = len(inventory.gpus)
    cc = _min_cc(inventory)
    budget, reserve, min_kv = _fixed_costs(shape, inventory, opts)
    per_layer = kv_bytes_per_layer_token(shape, opts.kv_cache_dtype)
    per_token = per_layer * shape.full_attention_layers
    sliding_per_seq = per_layer * shape.sliding_layers * shape.sliding_window
    model_ctx = min(shape.context_length, opts.max_model_len or shape.context_length)
    min_ctx = min(opts.min_context, model_ctx)

    def need(weights: int) -> int:
        return weights + reserve + min_kv

    reasons: list[str] = []

    def say(sentence: Callable[[], str]) -> None:
        if explain:
            reasons.append(sentence())

    total = inventory.total_bytes
    say(
        lambda: (
            f"Budget {gib(budget)} = {opts.gpu_memory_utilization:.0%} of {gib(total)}"
            + (f" on {tp} devices (tensor parallel)" if tp > 1 else "")
            + (" (limited by free memory)" if budget < int(total * opts.gpu_memory_utilization) else "")
            + f"; reserve {gib(reserve)} for activations and graphs."
        )
    )
    kv_word = "MLA latent" if shape.is_mla else "K+V"
    say(
        lambda: (
            f"KV cache: {per_token:,} bytes per token ({kv_word}, {shape.full_attention_layers} layers × "
            f"{shape.kv_heads} KV heads × head dim {shape.head_dim} × "
            f"{1 if opts.kv_cache_dtype == 'fp8' else 2} bytes)."
        )
    )
    method: str | None = None
    weights = shape.weight_bytes
    if shape.pre_quant_method:
        reason, method = "pre_quantized", shape.pre_quant_method
        required = PRE_QUANT_MIN_CC.get(method)
        bits = f" ({shape.pre_quant_bits:g}-bit)" if shape.pre_quant_bits else ""
        if required is not None and cc is not None and cc < required:
            return _cannot(
                opts, tp, inventory, budget, reserve, weights, per_token, min_ctx, reasons, say,
                lambda: f"The checkpoint is pre-quantized with {method}{bits}, whose kernels need compute "
                f"capability ≥ {required}; this device has {cc}.",
            )  # fmt: skip
        if inventory.device == "cpu" and method not in ("awq", "gptq"):
            return _cannot(
                opts, tp, inventory, budget, reserve, weights, per_token, min_ctx, reasons, say,
                lambda: f"The checkpoint is pre-quantized with {method}, which has no CPU kernel.",
            )  # fmt: skip
        say(lambda: f"Pre-quantized checkpoint: served with its own method, {method}{bits}.")
        if need(weights) > budget:
            return _cannot(
                opts, tp, inventory, budget, reserve, weights, per_token, min_ctx, reasons, say,
                lambda: _shortfall("Its weights", weights, reserve, per_token, min_ctx, budget),
            )  # fmt: skip
    elif need(weights) <= budget:
        reason = "native_fits"
        say(
            lambda: (
                f"Native precision fits: weights {gib(weights)} + reserve {gib(reserve)} + "
                f"{min_ctx:,}-token KV cache {gib(per_token * min_ctx)} ≤ budget {gib(budget)}."
            )
        )
    else:
        say(lambda: _shortfall("Native weights", weights, reserve, per_token, min_ctx, budget))
        reason = "cannot_fit"
        tried: list[str] = []
        for name, per_weight, min_cc in RUNTIME_METHODS if opts.allow_runtime_quantization else ():
            if cc is None:
                if explain:
                    tried.append(f"{name}: no CPU kernel")
                continue
            if cc < min_cc:
                if explain:
                    tried.append(f"{name}: needs compute capability ≥ {min_cc}, device has {cc}")
                continue
            candidate = _weights_with(shape, per_weight)
            if need(candidate) <= budget:
                reason, method, weights = "runtime_quantization", name, candidate
                if explain:
                    reasons.append(
                        f"Runtime quantization with {name}: weights {gib(candidate)} + reserve "
                        f"{gib(reserve)} + {min_ctx:,}-token KV cache {gib(per_token * min_ctx)} ≤ "
                        f"budget {gib(budget)}."
                    )
                break
            if explain:
                tried.append(f"{name}: weights {gib(candidate)}, needs {gib(need(candidate))}")
        if reason == "cannot_fit":
            detail = "; ".join(tried) if tried else "runtime quantization is disabled"
            return _cannot(
                opts, tp, inventory, budget, reserve, shape.weight_bytes, per_token, min_ctx, reasons, say,
                lambda: f"No runtime quantization fits the budget of {gib(budget)} ({detail}).",
            )  # fmt: skip

    kv_budget = budget - weights - reserve
    fit_ctx = (kv_budget - sliding_per_seq) // per_token
    context = min(model_ctx, fit_ctx)
    if context < model_ctx:
        say(
            lambda: (
                f"Context length {context:,} tokens: the model's {model_ctx:,} would need "
                f"{gib(per_token * model_ctx)} of KV cache, {gib(kv_budget)} is left."
            )
        )
    else:
        say(lambda: f"Context length {context:,} tokens: the model's full context fits.")
    per_seq = per_token * context + per_layer * shape.sliding_layers * min(shape.sliding_window, context)
    cap = max_seqs_cap(inventory)
    seqs = max(1, min(cap, kv_budget // per_seq))
    say(
        lambda: (
            f"Max sequences {seqs}: {gib(kv_budget)} of KV cache holds {kv_budget // per_seq:,} sequences of "
            f"{context:,} tokens ({gib(per_seq)} each), capped at {cap}."
        )
    )
    moe = _moe(shape, inventory, tp, method, opts)
    if moe is not None:
        say(lambda: moe["summary"])
    return LoadPlan(
        fits=True,
        quantization_reason=reason,
        applied_quantization=method,
        context_length=int(context),
        max_sequences=int(seqs),
        tensor_parallel_size=tp,
        gpu_memory_utilization=opts.gpu_memory_utilization,
        kv_cache_dtype=opts.kv_cache_dtype,
        memory=_memory(total, budget, reserve, shape.weight_bytes, weights, per_token, kv_budget, per_seq),
        reasons=reasons,
        moe=moe,
        device=inventory.device,
    )


def _shortfall(what: str, weights: int, reserve: int, per_token: int, min_ctx: int, budget: int) -> str:
    needed = weights + reserve + per_token * min_ctx
    return (
        f"{what} {gib(weights)} + reserve {gib(reserve)} + {min_ctx:,}-token KV cache "
        f"{gib(per_token * min_ctx)} = {gib(needed)} > budget {gib(budget)}."
    )


def _memory(
    total: int, budget: int, reserve: int, native: int, weights: int, per_token: int, kv: int, per_seq: int
) -> dict[str, int]:
    return {
        "totalBytes": total,
        "budgetBytes": budget,
        "reserveBytes": reserve,
        "nativeWeightsBytes": native,
        "weightsBytes": weights,
        "kvCacheBytes": max(0, kv),
        "kvBytesPerToken": per_token,
        "perSequenceBytes": per_seq,
    }


def _cannot(
    opts: PlanOptions,
    tp: int,
    inventory: Inventory,
    budget: int,
    reserve: int,
    weights: int,
    per_token: int,
    min_ctx: int,
    reasons: list[str],
    say: Callable[[Callable[[], str]], None],
    why: Callable[[], str],
) -> LoadPlan:
    say(why)
    kv = budget - weights - reserve
    return LoadPlan(
        fits=False,
        quantization_reason="cannot_fit",
        applied_quantization=None,
        context_length=0,
        max_sequences=0,
        tensor_parallel_size=tp,
        gpu_memory_utilization=opts.gpu_memory_utilization,
        kv_cache_dtype=opts.kv_cache_dtype,
        memory=_memory(inventory.total_bytes, budget, reserve, weights, weights, per_token, kv, 0),
        reasons=reasons,
        device=inventory.device,
    )


def _moe(
    shape: ModelShape, inventory: Inventory, tp: int, method: str | None, opts: PlanOptions
) -> dict[str, Any] | None:
    if not shape.is_moe:
        return None
    experts = shape.num_experts or 0
    shard = (shape.moe_intermediate_size or 0) // tp
    device = inventory.gpus[0].device_name or inventory.gpus[0].name
    name = moe_config_name(experts, shard, device, method)
    found = opts.enable_moe_config and name in opts.moe_config_files
    if not opts.enable_moe_config:
        summary = f"MoE with {experts} experts: tuned kernel configs are off (no --enable-moe-config)."
    elif found:
        summary = f"MoE with {experts} experts: tuned kernel config {name} found."
    else:
        summary = f"MoE with {experts} experts: no tuned kernel config {name}; the default config is used."
    return {
        "numExperts": experts,
        "expertsPerToken": shape.experts_per_tok,
        "shardIntermediateSize": shard,
        "configFile": name,
        "enabled": opts.enable_moe_config,
        "tunedConfigFound": found,
        "summary": summary,
    }
