"""Which engine ``xerotier agent`` runs."""

from __future__ import annotations

from xerotier.agent import engine_choice


def test_auto_on_cpu_runs_the_cpu_engine_when_installed(monkeypatch):
    monkeypatch.setattr(engine_choice, "available", lambda: None)
    assert engine_choice.choose_engine("auto", "cpu", None) == ("cpu", "")


def test_auto_on_cpu_without_the_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(
        engine_choice, "available", lambda: "not installed: pip install 'xerotier[cpu-engine]'"
    )
    engine, line = engine_choice.choose_engine("auto", "cpu", None)
    assert engine == "builtin" and "pip install 'xerotier[cpu-engine]'" in line and "\n" not in line
    assert engine_choice.choose_engine("cpu", "cpu", None)[0] is None  # asked for it: refused


def test_vllm_and_builtin():
    assert engine_choice.choose_engine("auto", None, "vllm") == ("vllm", "")
    assert engine_choice.choose_engine("vllm", None, None)[0] is None
    assert engine_choice.choose_engine("builtin", "cpu", None)[0] == "builtin"
    assert engine_choice.choose_engine("nope", None, None)[0] is None
