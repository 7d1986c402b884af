"""The exact vLLM command line and environment for a load plan (pure)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

#: plan method → vLLM ``--quantization`` value (bitsandbytes 4-bit types go through hf-overrides).
VLLM_QUANTIZATION = {
    "fp8": "fp8",
    "bitsandbytes": "bitsandbytes",
    "bitsandbytes-fp4": "bitsandbytes",
    "bitsandbytes-nf4": "bitsandbytes",
    "awq": "awq",
    "gptq": "gptq",
    "compressed-tensors": "compressed-tensors",
    "mxfp4": "mxfp4",
}


def render_vllm(
    engine: str,
    plan: dict[str, Any],
    model_dir: Path,
    served_name: str,
    port: int,
    moe_config_dir: Path | None = None,
    host: str = "127.0.0.1",
) -> tuple[list[str], dict[str, str]]:
    """``[engine, "serve", dir, flags…]`` and the extra environment for ``plan``."""
    argv = [
        *shlex.split(engine),
        "serve",
        str(model_dir),
        "--served-model-name",
        served_name,
        "--host",
        host,
        "--port",
        str(port),
        "--max-model-len",
        str(plan["contextLength"]),
        "--max-num-seqs",
        str(plan["maxSequences"]),
        "--gpu-memory-utilization",
        str(plan["gpuMemoryUtilization"]),
        "--tensor-parallel-size",
        str(plan.get("tensorParallelSize", 1)),
        "--kv-cache-dtype",
        str(plan.get("kvCacheDtype", "auto")),
    ]
    if plan.get("expertParallel"):
        argv.append("--enable-expert-parallel")
    method = plan.get("appliedQuantization")
    if method and plan.get("quantizationReason") == "runtime_quantization":
        argv += ["--quantization", VLLM_QUANTIZATION.get(method, method)]
        if method in ("bitsandbytes-fp4", "bitsandbytes-nf4"):
            kind = method.rsplit("-", 1)[1]
            argv += [
                "--hf-overrides",
                '{"quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": true, '
                f'"bnb_4bit_quant_type": "{kind}"}}}}',
            ]
    elif method:
        argv += ["--quantization", VLLM_QUANTIZATION.get(method, method)]
    if plan.get("device") == "cpu":
        argv += ["--device", "cpu"]
    env: dict[str, str] = {}
    moe = plan.get("moe") or {}
    if moe.get("enabled") and moe_config_dir is not None:
        env["VLLM_TUNED_CONFIG_FOLDER"] = str(moe_config_dir)
    return argv, env


def render_cpu_engine(
    python: str, plan: dict[str, Any], model_dir: Path, served_name: str, port: int, host: str = "127.0.0.1"
) -> tuple[list[str], dict[str, str]]:
    """The command line of the CPU engine (``xerotier.agent.cpu_engine``) for ``plan``."""
    argv = [
        python,
        "-m",
        "xerotier.agent.cpu_engine",
        "--model-dir",
        str(model_dir),
        "--served-model-name",
        served_name,
        "--host",
        host,
        "--port",
        str(port),
    ]
    if plan.get("contextLength"):
        argv += ["--max-model-len", str(plan["contextLength"])]
    return argv, {"TOKENIZERS_PARALLELISM": "false"}


def bind_host(advertised: str) -> str:
    """Where an engine listens: loopback when routers reach it there, else every interface."""
    return advertised if advertised in ("127.0.0.1", "localhost", "::1") else "0.0.0.0"
