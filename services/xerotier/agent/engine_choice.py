"""Which engine an agent runs (pure: the caller says whether the CPU engine is installed)."""

from __future__ import annotations

ENGINES = ("auto", "vllm", "cpu", "builtin")


def choose_engine(
    requested: str, device: str | None, engine_command: str | None, missing: str | None
) -> tuple[str | None, str]:
    """(engine, a line for the operator); engine None means refuse, with the line saying why.

    ``auto``: vLLM when ``XEROTIER_ENGINE_COMMAND`` is set; on ``--device cpu`` the CPU engine when
    its libraries are installed (``missing`` None; else the line saying how to install them);
    otherwise the built-in load check, which serves no request.
    """
    if requested not in ENGINES:
        return None, f"Invalid --engine {requested!r}: use one of {', '.join(ENGINES)}"
    if requested == "vllm" or (requested == "auto" and engine_command):
        if not engine_command:
            return None, "--engine vllm needs XEROTIER_ENGINE_COMMAND (e.g. vllm)"
        return "vllm", ""
    if requested == "builtin":
        return "builtin", "Engine: built-in load check (reads every tensor; serves no request)"
    if requested == "cpu" or device == "cpu":
        if missing is None:
            return "cpu", ""
        if requested == "cpu":
            return None, missing
        return "builtin", f"Engine: built-in load check only, {missing}"
    return "builtin", "Engine: built-in load check (set XEROTIER_ENGINE_COMMAND=vllm to serve)"
