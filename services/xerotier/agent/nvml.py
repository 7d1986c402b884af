"""GPU discovery through NVML (``pynvml`` from nvidia-ml-py): the only module that calls it."""

from __future__ import annotations

import contextlib

from xerotier.domain.inventory import Gpu, Inventory


class NvmlUnavailable(Exception):
    """NVML cannot be used here (no library, no driver, no GPU)."""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def discover() -> Inventory:
    """Every GPU's name, total and free memory, compute capability, driver version and MIG mode."""
    try:
        import pynvml
    except ImportError as exc:  # the package itself is missing
        raise NvmlUnavailable(f"pynvml is not installed ({exc})") from None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        raise NvmlUnavailable(str(exc) or type(exc).__name__) from None
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = _text(pynvml.nvmlDeviceGetName(handle))
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
            try:
                mig = bool(pynvml.nvmlDeviceGetMigMode(handle)[0])
            except pynvml.NVMLError:  # not supported on this GPU
                mig = None
            gpus.append(
                Gpu(
                    name=name,
                    memory_bytes=int(memory.total),
                    free_bytes=int(memory.free),
                    compute_capability=float(f"{major}.{minor}"),
                    device_name=name.replace(" ", "_"),
                    driver_version=driver,
                    mig_mode=mig,
                )
            )
    except pynvml.NVMLError as exc:
        raise NvmlUnavailable(str(exc) or type(exc).__name__) from None
    finally:
        with contextlib.suppress(pynvml.NVMLError):
            pynvml.nvmlShutdown()
    if not gpus:
        raise NvmlUnavailable("NVML found no GPU")
    return Inventory("cuda", tuple(gpus))
