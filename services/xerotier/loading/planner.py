"""The load planner: (model shape, device inventory, options) → load plan vLLM accepts. Pure, fast.

Each rule mirrors what vLLM does at start-up (docs/load-plans.md names the vLLM file of each):

* Budget: ``total × --gpu-memory-utilization`` per GPU (``vllm/v1/worker/gpu_worker.py``); vLLM
  refuses to start when a GPU's free memory is below that, so with free-memory data the plan lowers
  the utilization to what the fullest GPU has free (and says so; without the data it never does).
* Non-KV memory, as vLLM's memory profiler counts it (``vllm/utils/mem_utils.py``
  ``memory_profiling``): the weights, the activation peak of the profile run (a forward pass of
  ``max_num_batched_tokens`` tokens, or the sampler's logits of ``max_num_seqs`` requests), non-torch
  allocations and CUDA graphs, plus the gap between NVML's total and CUDA's — conservatively.
* KV cache per token: ``2 × layers × KV heads × head size × bytes`` (MLA: one latent, no factor 2);
  under tensor parallelism each rank holds ``max(1, KV heads // TP)`` heads (``get_num_kv_heads``), so
  TP above the KV head count replicates heads (and MLA's latent is on every rank).
  Sliding-window layers hold ``min(window − 1 + max_num_batched_tokens, length) + one block`` tokens
  (``vllm/v1/kv_cache_interface.py`` ``SlidingWindowSpec``).
* Context: the model's, clamped to what one request's KV cache fits (``estimate_max_model_len``).
* ``--max-num-seqs``: vLLM's default by device (``EngineArgs.get_batch_defaults``): 1024 on GPUs of
  ≥ 70 GiB other than A100, else 256 (128 on CPU). Paged attention shares the KV pool block by block,
  so concurrency is a cap, not the number of full-length sequences that fit (reported apart).
* Tensor parallel: heads divisible by TP, KV heads dividing or divided by TP, and for block-quantized
  FP8 every sharded dimension a multiple of the block (``fp8.py`` / ``fp8_utils.py``); when only the
  MoE experts break the rule, expert parallelism keeps them whole, else a smaller TP is chosen.
* Quantization: the checkpoint's own method when pre-quantized (its kernels' compute capability,
  vLLM's supported-hardware table); else native when the weights, the reserve and a minimum context
  fit; else the first runtime method vLLM offers that fits (``fp8`` from compute capability 8.0, via
  FP8 Marlin below 8.9; in-flight ``bitsandbytes``, which is 4-bit only); else ``cannot_fit``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xerotier.domain.inventory import Gpu, Inventory
from xerotier.loading.model_shape import ModelShape
from xerotier.loading.moe_config import moe_config_name

GIB = 1 << 30
MIB = 1 << 20
#: vLLM's ``DEFAULT_BLOCK_SIZE`` (tokens per KV block).
BLOCK_SIZE = 16
#: Per GPU, outside the KV cache: non-torch allocations (NCCL, cuBLAS workspaces), CUDA graphs, and
#: what NVML counts but ``cudaMemGetInfo`` (vLLM's total) does not: an A100 80GB reports 81,920 MiB to
#: NVML and "a total capacity of 79.15 GiB" (81,050 MiB) to PyTorch, 870 MiB less; an H100 ~470 MiB.
NON_TORCH_BYTES = 512 * MIB
CUDA_GRAPH_BYTES = 1 * GIB
DRIVER_GAP_BYTES = 1 * GIB
FIXED_PER_GPU = NON_TORCH_BYTES + CUDA_GRAPH_BYTES + DRIVER_GAP_BYTES
#: Copies of the sampler's fp32 logits in vLLM's profile run (logits, probabilities, sort buffers).
SAMPLER_COPIES = 3
#: Runtime methods vLLM offers, in order of preference: (name, bytes per converted weight, minimum
#: compute capability). fp8 runs weight-only through FP8 Marlin on Ampere (8.0–8.6), W8A8 from 8.9;
#: in-flight bitsandbytes is 4-bit (4-bit values + one fp32 absmax per 64-value block).
RUNTIME_METHODS: tuple[tuple[str, float, float], ...] = (
    ("fp8", 1.0, 8.0),
    ("bitsandbytes", 0.5 + 4 / 64, 7.0),
)
#: Minimum compute capability of the kernels that serve pre-quantized checkpoints in vLLM
#: (supported-hardware table: AWQ from Turing, GPTQ from Volta, FP8/MXFP4 through Marlin from Ampere).
PRE_QUANT_MIN_CC: dict[str, float] = {
    "awq": 7.5,
    "gptq": 7.0,
    "fp8": 8.0,
    "fbgemm_fp8": 8.0,
    "mxfp4": 8.0,
    "bitsandbytes": 7.0,
}
#: Pre-quantized formats upstream vLLM does not serve from safetensors.
UNSERVED_METHODS: dict[str, str] = {
    "exl2": "ExLlamaV2's exl2 has no kernel in upstream vLLM",
}


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
    max_sequences: int  # --max-num-seqs: vLLM's concurrency cap
    tensor_parallel_size: int
    gpu_memory_utilization: float
    kv_cache_dtype: str
    memory: dict[str, int]
    reasons: list[str] = field(default_factory=list)
    moe: dict[str, Any] | None = None
    device: str = "cuda"
    full_length_sequences: int = 0  # how many sequences of the full context the KV cache holds at once
    expert_parallel: bool = False
    max_num_batched_tokens: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "fits": self.fits,
            "appliedQuantization": self.applied_quantization,
            "quantizationReason": self.quantization_reason,
            "contextLength": self.context_length,
            "maxSequences": self.max_sequences,
            "fullLengthSequences": self.full_length_sequences,
            "maxNumBatchedTokens": self.max_num_batched_tokens,
            "tensorParallelSize": self.tensor_parallel_size,
            "expertParallel": self.expert_parallel,
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


def kv_heads_per_rank(shape: ModelShape, tp: int) -> int:
    """vLLM ``get_num_kv_heads``: MLA caches one latent; else ``max(1, KV heads // TP)`` (replicated)."""
    return 1 if shape.is_mla else max(1, shape.kv_heads // tp)


def kv_bytes_per_layer_token(shape: ModelShape, kv_cache_dtype: str, tp: int = 1) -> int:
    """K and V of one token in one layer, summed over the TP ranks (replicated heads count twice)."""
    elem = 1 if kv_cache_dtype == "fp8" else 2
    return tp * kv_heads_per_rank(shape, tp) * shape.head_dim * elem * (1 if shape.is_mla else 2)


def scheduler_defaults(inventory: Inventory) -> tuple[int, int]:
    """vLLM's API-server defaults ``(max_num_seqs, max_num_batched_tokens)`` for the device class:
    (1024, 8192) on GPUs of ≥ 70 GiB other than A100, else (256, 2048); (128, 2048) on CPU."""
    if inventory.device == "cpu":
        return 128, 2048
    gpu = inventory.gpus[0]
    label = f"{gpu.name} {gpu.device_name or ''}".lower()
    return (1024, 8192) if gpu.memory_bytes >= 70 * GIB and "a100" not in label else (256, 2048)


def max_seqs_cap(inventory: Inventory) -> int:
    return scheduler_defaults(inventory)[0]


def effective_utilization(gpus: tuple[Gpu, ...], utilization: float) -> tuple[float, bool]:
    """(utilization vLLM can be given, whether free memory lowered it): vLLM refuses to start when a
    GPU's free memory is below ``total × utilization``, so the share is what the fullest GPU has free."""
    util, limited = utilization, False
    for gpu in gpus:
        if gpu.free_bytes is not None and gpu.free_bytes < int(gpu.memory_bytes * utilization):
            limited = True
            util = min(util, int(gpu.free_bytes * 100 // gpu.memory_bytes) / 100)
    return util, limited


def budget_of(inventory: Inventory, utilization: float, tp: int | None = None) -> int:
    gpus = inventory.gpus[: tp or len(inventory.gpus)]
    util, _ = effective_utilization(gpus, utilization)
    return sum(int(g.memory_bytes * util) for g in gpus)


def _tp_problems(shape: ModelShape, tp: int, expert_parallel: bool) -> tuple[list[str], bool]:
    """Why vLLM refuses tensor parallel size ``tp`` (its messages), and whether only MoE experts do."""
    problems: list[str] = []
    heads = shape.num_attention_heads
    if heads and heads % tp:
        problems.append(
            f"Total number of attention heads ({heads}) must be divisible by tensor parallel size ({tp})"
        )
    kv = shape.kv_heads
    if not shape.is_mla and kv and kv % tp and tp % kv:
        problems.append(f"{kv} KV heads neither divide nor are divided by tensor parallel size {tp}")
    moe_only = False
    if shape.weight_block and tp > 1:
        block_n, block_k = shape.weight_block
        if shape.dense_mlp_layers:
            problems += _sharded("gate's and up's", shape.intermediate_size, tp, block_n, block_k)
        if shape.is_moe and not expert_parallel and shape.moe_intermediate_size:
            moe = _sharded("experts' gate's and up's", shape.moe_intermediate_size, tp, block_n, block_k)
            moe_only = bool(moe) and not problems
            problems += moe
        if not shape.is_mla and heads and heads % tp == 0 and (heads // tp * shape.head_dim) % block_n:
            problems.append(
                f"Weight output_partition_size = {heads // tp * shape.head_dim} of q_proj is not "
                f"divisible by weight quantization block_n = {block_n}"
            )
    return problems, moe_only


def _sharded(what: str, size: int, tp: int, block_n: int, block_k: int) -> list[str]:
    part = size // tp
    if size % tp or part % block_n:
        return [
            f"The output_size of {what} weight = {size / tp:g} is not divisible by weight "
            f"quantization block_n = {block_n}"
        ]
    if part % block_k:
        return [f"Weight input_size_per_partition = {part} is not divisible by block_k = {block_k}"]
    return []


@dataclass(frozen=True)
class Parallel:
    tp: int
    expert_parallel: bool
    refused: tuple[str, ...]  # why the full inventory's TP size is refused (empty when it is used)


def choose_parallel(shape: ModelShape, gpu_count: int) -> Parallel | None:
    """The TP size vLLM accepts: all GPUs, with expert parallelism when only the experts' blocks
    forbid it, else the largest smaller size; None when no size is accepted."""
    heads, kv = shape.num_attention_heads, shape.kv_heads
    if (
        shape.weight_block is None
        and not heads % gpu_count
        and (shape.is_mla or not (kv % gpu_count and gpu_count % kv))
    ):
        return Parallel(gpu_count, False, ())  # the common case, without building messages
    refused: tuple[str, ...] = ()
    for tp in range(gpu_count, 0, -1):
        problems, moe_only = _tp_problems(shape, tp, False)
        if not problems:
            return Parallel(tp, False, refused)
        if moe_only and not _tp_problems(shape, tp, True)[0]:
            return Parallel(tp, True, refused if tp < gpu_count else tuple(problems))
        if tp == gpu_count:
            refused = tuple(problems)
    return None


def activation_bytes(
    shape: ModelShape,
    tp: int,
    expert_parallel: bool,
    inventory: Inventory,
    defaults: tuple[int, int] | None = None,
) -> int:
    """One GPU's activation peak in vLLM's profile run: a forward pass of ``max_num_batched_tokens``
    tokens (residual and norm copies, the rank's Q/K/V, the MLP's or fused-MoE's intermediate caches,
    bf16), or the sampler's fp32 logits of ``max_num_seqs`` dummy requests, whichever is larger."""
    seqs, tokens = defaults or scheduler_defaults(inventory)
    hidden = shape.hidden_size
    attention = (shape.num_attention_heads // tp + 2 * kv_heads_per_rank(shape, tp)) * shape.head_dim
    if shape.is_moe and shape.moe_intermediate_size:
        shard = shape.moe_intermediate_size // (1 if expert_parallel else tp)
        ffn = (shape.experts_per_tok or 1) * (3 * shard + hidden)
    else:
        ffn = 3 * shape.intermediate_size // tp
    forward = tokens * (4 * hidden + attention + ffn) * 2
    sampler = SAMPLER_COPIES * seqs * shape.vocab_size * 4
    return max(forward, sampler)


@dataclass(frozen=True)
class Costs:
    parallel: Parallel
    gpus: tuple[Gpu, ...]
    utilization: float
    limited_by_free: bool
    budget: int
    reserve: int
    activations: int
    per_layer: int  # KV bytes of one token in one layer, all ranks
    min_ctx: int
    min_kv: int


def fixed_costs(shape: ModelShape, inventory: Inventory, opts: PlanOptions) -> Costs | None:
    """What every fit decision weighs (None when no TP size is accepted).

    Weights of ``w`` bytes fit when ``w + reserve + min_kv <= budget``.
    """
    parallel = (
        choose_parallel(shape, len(inventory.gpus)) if inventory.device != "cpu" else Parallel(1, False, ())
    )
    if parallel is None:
        return None
    gpus = inventory.gpus[: parallel.tp]
    util, limited = effective_utilization(gpus, opts.gpu_memory_utilization)
    budget = 0
    for gpu in gpus:
        budget += int(gpu.memory_bytes * util)
    defaults = scheduler_defaults(inventory)
    activations = activation_bytes(shape, parallel.tp, parallel.expert_parallel, inventory, defaults)
    fixed = FIXED_PER_GPU if inventory.device != "cpu" else NON_TORCH_BYTES
    reserve = parallel.tp * (fixed + activations)
    per_layer = kv_bytes_per_layer_token(shape, opts.kv_cache_dtype, parallel.tp)
    min_ctx = min(opts.min_context, shape.context_length, opts.max_model_len or shape.context_length)
    batched = defaults[1]
    min_kv = per_layer * kv_layers(shape)[0] * min_ctx + sliding_bytes(shape, per_layer, min_ctx, batched)
    return Costs(parallel, gpus, util, limited, budget, reserve, activations, per_layer, min_ctx, min_kv)


def kv_layers(shape: ModelShape) -> tuple[int, int]:
    """(full, sliding) layers as the KV cache is allocated for them. A hybrid model's layers are put
    in groups of one size per attention type (the smaller count, or the larger when within 25 %), the
    last group of a type padded: Gemma 3 27B's 52 sliding layers take 6 groups of 10, as 60 layers
    (vLLM ``vllm/v1/core/kv_cache_utils.py``, uniform-page-size grouping)."""
    full, sliding = shape.full_attention_layers, shape.sliding_layers
    if not full or not sliding:
        return full, sliding
    low, high = min(full, sliding), max(full, sliding)
    group = high if high < low * 1.25 else low
    return -(-full // group) * group, -(-sliding // group) * group


def sliding_bytes(shape: ModelShape, per_layer: int, context: int, batched: int) -> int:
    """KV cache of one request's sliding-window layers (vLLM ``SlidingWindowSpec.max_memory_usage``)."""
    sliding = kv_layers(shape)[1]
    if not sliding:
        return 0
    tokens = min(shape.sliding_window - 1 + batched, context) + BLOCK_SIZE
    return per_layer * sliding * tokens


def plan_key(inventory: Inventory, options: PlanOptions) -> tuple:
    """Everything of an inventory a plan depends on: equal keys get equal plans (for caching)."""
    first = inventory.gpus[0]
    util, _ = effective_utilization(inventory.gpus, options.gpu_memory_utilization)
    return (
        inventory.device,
        tuple(g.memory_bytes for g in inventory.gpus),
        util,
        _min_cc(inventory),
        scheduler_defaults(inventory),
        first.name,
        first.device_name,
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


def quick_fit(shape: ModelShape, inventory: Inventory, options: PlanOptions | None = None) -> str:
    """What ``plan_load`` can answer, by its own arithmetic, without building a plan.

    ``"native"``: it answers ``native_fits``. ``"none"``: nothing fits, since even the smallest
    weights the planner may pick exceed the budget. ``"maybe"``: only a plan can tell.
    """
    opts = options or PlanOptions()
    if not inventory.gpus:
        return "none"
    costs = fixed_costs(shape, inventory, opts)
    if costs is None:
        return "none"
    room = costs.budget - costs.reserve - costs.min_kv  # what the weights may take
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
    """The load plan of ``shape`` on ``inventory`` (its GPUs, tensor parallel).

    ``explain=False`` skips the sentences of ``reasons`` (placement ranks many backends with it,
    then explains only the plan it keeps).
    """
    opts = options or PlanOptions()
    if not inventory.gpus:
        raise ValueError("an inventory needs at least one device")
    reasons: list[str] = []

    def say(sentence: Callable[[], str]) -> None:
        if explain:
            reasons.append(sentence())

    costs = fixed_costs(shape, inventory, opts)
    if costs is None:
        problems, _ = _tp_problems(shape, len(inventory.gpus), False)
        say(
            lambda: (
                f"No tensor parallel size up to {len(inventory.gpus)} is accepted by vLLM: "
                f"{'; '.join(problems)}."
            )
        )
        return _cannot(shape, inventory, opts, None, reasons)
    tp, cc = costs.parallel.tp, _min_cc(inventory)
    budget, reserve, per_layer, min_ctx = costs.budget, costs.reserve, costs.per_layer, costs.min_ctx
    full_layers, sliding_layers = kv_layers(shape)
    per_token = per_layer * full_layers
    seqs_cap, batched = scheduler_defaults(inventory)
    model_ctx = min(shape.context_length, opts.max_model_len or shape.context_length)
    total = sum(g.memory_bytes for g in costs.gpus)

    def need(weights: int) -> int:
        return weights + reserve + costs.min_kv

    if costs.parallel.refused:
        refused = "; ".join(costs.parallel.refused)
        if costs.parallel.expert_parallel:
            say(lambda: f"Expert parallel (--enable-expert-parallel) on {tp} GPUs keeps the experts whole: "
                        f"tensor parallel alone is refused by vLLM ({refused}).")  # fmt: skip
        else:
            say(lambda: f"Tensor parallel size {tp} of {len(inventory.gpus)} GPUs: vLLM refuses "
                        f"{len(inventory.gpus)} ({refused}).")  # fmt: skip
    say(
        lambda: (
            f"Budget {gib(budget)} = {costs.utilization:.0%} of {gib(total)}"
            + (f" on {tp} devices (tensor parallel)" if tp > 1 else "")
            + (
                f" (limited by free memory: utilization lowered from {opts.gpu_memory_utilization:.0%}, "
                "vLLM refuses to start when free memory is below its share)"
                if costs.limited_by_free
                else ""
            )
            + f"; reserve {gib(reserve)} for activations ({gib(costs.activations)} per GPU), "
            f"CUDA graphs and non-torch memory."
        )
    )
    kv_word = "MLA latent" if shape.is_mla else "K+V"
    say(
        lambda: (
            f"KV cache: {per_token:,} bytes per token ({kv_word}, {full_layers} layers × "
            f"{tp} rank(s) × {kv_heads_per_rank(shape, tp)} KV heads × head dim {shape.head_dim} × "
            f"{1 if opts.kv_cache_dtype == 'fp8' else 2} bytes)"
            + (
                f"; KV heads replicated: {shape.kv_heads} KV heads over {tp} ranks"
                if not shape.is_mla and shape.kv_heads < tp
                else ""
            )
            + (
                f"; {sliding_layers} sliding-window layers (allocated) hold at most "
                f"{min(shape.sliding_window - 1 + batched, model_ctx) + BLOCK_SIZE:,} tokens each"
                if shape.sliding_layers
                else ""
            )
            + "."
        )
    )
    method: str | None = None
    weights = shape.weight_bytes
    if shape.pre_quant_method:
        reason, method = "pre_quantized", shape.pre_quant_method
        required = PRE_QUANT_MIN_CC.get(method)
        bits = f" ({shape.pre_quant_bits:g}-bit)" if shape.pre_quant_bits else ""
        unserved = UNSERVED_METHODS.get(method)
        if unserved is not None:
            say(lambda: f"The checkpoint is pre-quantized with {method}{bits}: {unserved}.")
            return _cannot(shape, inventory, opts, costs, reasons)
        if required is not None and cc is not None and cc < required:
            say(lambda: f"The checkpoint is pre-quantized with {method}{bits}, whose kernels need compute "
                        f"capability ≥ {required}; this device has {cc}.")  # fmt: skip
            return _cannot(shape, inventory, opts, costs, reasons)
        if inventory.device == "cpu" and method not in ("awq", "gptq"):
            say(lambda: f"The checkpoint is pre-quantized with {method}, which has no CPU kernel.")
            return _cannot(shape, inventory, opts, costs, reasons)
        say(lambda: f"Pre-quantized checkpoint: served with its own method, {method}{bits}.")
        if need(weights) > budget:
            say(lambda: _shortfall("Its weights", weights, reserve, costs.min_kv, min_ctx, budget))
            return _cannot(shape, inventory, opts, costs, reasons)
    elif need(weights) <= budget:
        reason = "native_fits"
        say(
            lambda: (
                f"Native precision fits: weights {gib(weights)} + reserve {gib(reserve)} + "
                f"{min_ctx:,}-token KV cache {gib(costs.min_kv)} ≤ budget {gib(budget)}."
            )
        )
    else:
        say(lambda: _shortfall("Native weights", weights, reserve, costs.min_kv, min_ctx, budget))
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
                    how = " (weight-only, FP8 Marlin)" if name == "fp8" and cc < 8.9 else ""
                    how = " (4-bit, vLLM's in-flight bitsandbytes)" if name == "bitsandbytes" else how
                    reasons.append(
                        f"Runtime quantization with {name}{how}: weights {gib(candidate)} + reserve "
                        f"{gib(reserve)} + {min_ctx:,}-token KV cache {gib(costs.min_kv)} ≤ "
                        f"budget {gib(budget)}."
                    )
                break
            if explain:
                tried.append(f"{name}: weights {gib(candidate)}, needs {gib(need(candidate))}")
        if reason == "cannot_fit":
            detail = "; ".join(tried) if tried else "runtime quantization is disabled"
            say(lambda: f"No runtime quantization fits the budget of {gib(budget)} ({detail}).")
            return _cannot(shape, inventory, opts, costs, reasons)

    kv_budget = budget - weights - reserve
    context = min(model_ctx, _fit_context(shape, per_layer, per_token, kv_budget, batched))
    if context < model_ctx:
        say(
            lambda: (
                f"Context length {context:,} tokens: the model's {model_ctx:,} would need "
                f"{gib(per_token * model_ctx + sliding_bytes(shape, per_layer, model_ctx, batched))} of "
                f"KV cache, {gib(kv_budget)} is left."
            )
        )
    else:
        say(lambda: f"Context length {context:,} tokens: the model's full context fits.")
    per_seq = per_token * _blocks(context) + sliding_bytes(shape, per_layer, context, batched)
    full = kv_budget // per_seq
    say(
        lambda: (
            f"Max sequences {seqs_cap} (vLLM's default for this device; paged attention shares the KV "
            f"cache block by block): {gib(kv_budget)} of KV cache holds "
            f"{per_token and kv_budget // per_token:,} tokens, {full:,} sequence(s) of the full "
            f"{context:,} tokens at once."
        )
    )
    moe = _moe(shape, inventory, costs.parallel, method, opts)
    if moe is not None:
        say(lambda: moe["summary"])
    return LoadPlan(
        fits=True,
        quantization_reason=reason,
        applied_quantization=method,
        context_length=int(context),
        max_sequences=seqs_cap,
        tensor_parallel_size=tp,
        gpu_memory_utilization=costs.utilization,
        kv_cache_dtype=opts.kv_cache_dtype,
        memory=_memory(total, budget, reserve, shape.weight_bytes, weights, per_token, kv_budget, per_seq),
        reasons=reasons,
        moe=moe,
        device=inventory.device,
        full_length_sequences=int(full),
        expert_parallel=costs.parallel.expert_parallel,
        max_num_batched_tokens=batched,
    )


def _blocks(tokens: int) -> int:
    """Tokens rounded up to whole KV blocks."""
    return -(-tokens // BLOCK_SIZE) * BLOCK_SIZE


def _fit_context(shape: ModelShape, per_layer: int, per_token: int, kv_budget: int, batched: int) -> int:
    """The longest context (whole blocks) one request fits in ``kv_budget`` (``estimate_max_model_len``)."""
    if per_token == 0:
        return 1 << 62
    sliding = per_layer * kv_layers(shape)[1]
    cap = shape.sliding_window - 1 + batched  # sliding layers stop growing past this length
    fit = (kv_budget - sliding * (cap + BLOCK_SIZE)) // per_token
    if sliding and fit < cap:
        fit = (kv_budget - sliding * BLOCK_SIZE) // (per_token + sliding)
    return max(0, fit // BLOCK_SIZE * BLOCK_SIZE)


def _shortfall(what: str, weights: int, reserve: int, min_kv: int, min_ctx: int, budget: int) -> str:
    needed = weights + reserve + min_kv
    return (
        f"{what} {gib(weights)} + reserve {gib(reserve)} + {min_ctx:,}-token KV cache "
        f"{gib(min_kv)} = {gib(needed)} > budget {gib(budget)}."
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
    shape: ModelShape, inventory: Inventory, opts: PlanOptions, costs: Costs | None, reasons: list[str]
) -> LoadPlan:
    tp = costs.parallel.tp if costs else len(inventory.gpus)
    budget = costs.budget if costs else 0
    reserve = costs.reserve if costs else 0
    per_token = costs.per_layer * kv_layers(shape)[0] if costs else 0
    total = sum(g.memory_bytes for g in (costs.gpus if costs else inventory.gpus))
    weights = shape.weight_bytes
    return LoadPlan(
        fits=False,
        quantization_reason="cannot_fit",
        applied_quantization=None,
        context_length=0,
        max_sequences=0,
        tensor_parallel_size=tp,
        gpu_memory_utilization=costs.utilization if costs else opts.gpu_memory_utilization,
        kv_cache_dtype=opts.kv_cache_dtype,
        memory=_memory(total, budget, reserve, weights, weights, per_token, budget - weights - reserve, 0),
        reasons=reasons,
        device=inventory.device,
        expert_parallel=costs.parallel.expert_parallel if costs else False,
    )


def _moe(
    shape: ModelShape, inventory: Inventory, parallel: Parallel, method: str | None, opts: PlanOptions
) -> dict[str, Any] | None:
    if not shape.is_moe:
        return None
    experts = shape.num_experts or 0
    tp, ep = parallel.tp, parallel.expert_parallel
    local = experts // tp if ep else experts  # vLLM: E is the experts on one rank
    shard = (shape.moe_intermediate_size or 0) // (1 if ep else tp)  # N: w2's last dim on one rank
    device = inventory.gpus[0].device_name or inventory.gpus[0].name
    block = (
        list(shape.weight_block) if shape.weight_block and method in ("fp8", "compressed-tensors") else None
    )
    name = moe_config_name(local, shard, device, method, block, shape.pre_quant_bits)
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
        "localExperts": local,
        "configFile": name,
        "enabled": opts.enable_moe_config,
        "tunedConfigFound": found,
        "summary": summary,
    }
