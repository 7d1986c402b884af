"""Which engine ``xerotier agent`` runs."""

from __future__ import annotations

from xerotier.agent.engine_choice import choose_engine

HOW = "not installed: pip install 'xerotier[cpu-engine]'"


def test_auto_on_cpu_runs_the_cpu_engine_when_installed():
    assert choose_engine("auto", "cpu", None, None) == ("cpu", "")


def test_auto_on_cpu_without_the_engine_says_how_to_install_it():
    engine, line = choose_engine("auto", "cpu", None, HOW)
    assert engine == "builtin" and "pip install 'xerotier[cpu-engine]'" in line and "\n" not in line
    assert choose_engine("cpu", "cpu", None, HOW)[0] is None  # asked for it: refused


def test_vllm_and_builtin():
    assert choose_engine("auto", None, "vllm", None) == ("vllm", "")
    assert choose_engine("vllm", None, None, None)[0] is None
    assert choose_engine("builtin", "cpu", None, None)[0] == "builtin"
    assert choose_engine("nope", None, None, None)[0] is None
