"""Starting an external engine from the rendered command line and waiting for its health endpoint.

The engine here is a small real HTTP server script (no GPU on this machine): it records the
arguments it was started with and answers ``/health`` like vLLM's OpenAI server does.
"""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from xerotier.agent import engine_process
from xerotier.agent.builtin_engine import EngineFailure
from xerotier.agent.engine_command import render_vllm

SERVER = textwrap.dedent(
    """
    import http.server, json, os, sys
    args = sys.argv[1:]
    with open(os.environ["ARGS_FILE"], "w") as out:
        json.dump({"argv": args, "moe": os.environ.get("VLLM_TUNED_CONFIG_FOLDER")}, out)
    port = int(args[args.index("--port") + 1])
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()
        def log_message(self, *a):
            pass
    http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
    """
)

PLAN = {
    "contextLength": 8192,
    "maxSequences": 4,
    "gpuMemoryUtilization": 0.9,
    "tensorParallelSize": 1,
    "kvCacheDtype": "fp8",
    "appliedQuantization": "fp8",
    "quantizationReason": "runtime_quantization",
    "moe": {"enabled": True},
}


def test_engine_is_started_with_the_plan_and_waited_for(tmp_path, monkeypatch):
    script = tmp_path / "engine.py"
    script.write_text(SERVER)
    monkeypatch.setenv("ARGS_FILE", str(tmp_path / "args.json"))
    port = engine_process.free_port()
    argv, env = render_vllm(f"{sys.executable} {script}", PLAN, tmp_path / "model", "m:1.0.0", port, tmp_path)
    proc = engine_process.start_and_wait(argv, env, port, tmp_path / "engine.log", timeout=30)
    try:
        seen = json.loads((tmp_path / "args.json").read_text())
        args = seen["argv"]
        assert args[:2] == ["serve", str(tmp_path / "model")]
        assert args[args.index("--max-model-len") + 1] == "8192"
        assert args[args.index("--quantization") + 1] == "fp8"
        assert args[args.index("--kv-cache-dtype") + 1] == "fp8"
        assert seen["moe"] == str(tmp_path)
    finally:
        engine_process.stop(proc)
    assert proc.poll() is not None


def test_an_engine_that_exits_fails_the_load_with_its_code(tmp_path):
    argv = [sys.executable, "-c", "import sys; sys.exit(3)"]
    with pytest.raises(EngineFailure, match=r"the engine exited with code 3"):
        engine_process.start_and_wait(argv, {}, engine_process.free_port(), tmp_path / "e.log", timeout=30)


def test_a_missing_engine_is_named(tmp_path):
    with pytest.raises(EngineFailure, match=r"cannot start the engine '/nonexistent/vllm'"):
        engine_process.start_and_wait(["/nonexistent/vllm"], {}, 1, tmp_path / "e.log", timeout=5)
