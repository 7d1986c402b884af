"""A small OpenAI-compatible inference engine on PyTorch's CPU build and transformers.

``python -m xerotier.agent.cpu_engine --model-dir DIR --served-model-name NAME --port N`` serves
``/v1/chat/completions``, ``/v1/completions`` (streaming as server-sent events, as OpenAI and vLLM
send them, or not) and ``/v1/embeddings``, plus ``/health`` and ``/v1/models``. It exists because
``transformers serve`` offers chat completions and responses but neither ``/v1/completions`` nor
``/v1/embeddings``. Real inference: ``generate`` with the request's sampling parameters; one
request at a time (a CPU has no room for batching). Each request's parameters are logged as one
JSON line (``{"event": "request", ...}``), which tests read. ``pip install 'xerotier[cpu-engine]'``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

INSTALL_HINT = "pip install 'xerotier[cpu-engine]' (torch==2.13.0 CPU build and transformers)"


def available() -> str | None:
    """None when the engine's libraries import, else why not (with the install line)."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        return f"the CPU engine is not installed ({exc}): {INSTALL_HINT}"
    return None


def _log(event: dict[str, Any]) -> None:
    print(json.dumps(event, sort_keys=True), flush=True)


class Engine:
    def __init__(self, folder: Path, served_name: str, max_model_len: int | None) -> None:
        import torch
        from transformers import AutoConfig, AutoTokenizer

        self.torch = torch
        self.folder, self.served_name = folder, served_name
        self.lock = threading.Lock()
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        config = AutoConfig.from_pretrained(folder)
        self.embedding = _is_embedding_model(folder, config)
        if self.embedding:
            from transformers import AutoModel

            self.model = AutoModel.from_pretrained(folder, dtype=torch.float32)
            self.pooling, self.normalize = _pooling(folder)
        else:
            from transformers import AutoModelForCausalLM

            self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
        self.model.eval()
        native = getattr(config, "max_position_embeddings", None) or 2048
        self.max_model_len = min(max_model_len or native, native)

    # -- generation ----------------------------------------------------------------------------

    def _sampling(self, body: dict[str, Any], prompt_tokens: int) -> dict[str, Any]:
        room = self.max_model_len - prompt_tokens
        if room <= 0:
            raise ValueError(
                f"The prompt is {prompt_tokens} tokens; the model's context is {self.max_model_len}"
            )
        max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or room)
        temperature = body.get("temperature")
        temperature = 1.0 if temperature is None else float(temperature)
        top_p = body.get("top_p")
        top_p = 1.0 if top_p is None else float(top_p)
        kwargs: dict[str, Any] = {"max_new_tokens": min(max_tokens, room)}
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, top_p=top_p)
        else:
            kwargs.update(do_sample=False)
        if body.get("ignore_eos"):
            kwargs["min_new_tokens"] = kwargs["max_new_tokens"]
        if body.get("seed") is not None:
            self.torch.manual_seed(int(body["seed"]))
        return kwargs

    def chat_prompt(self, messages: list[dict[str, Any]]) -> str:
        return str(self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))

    def generate(
        self, prompt: str, body: dict[str, Any], add_special_tokens: bool
    ) -> tuple[Iterator[str], dict[str, int]]:
        """A stream of text pieces and the usage counts (complete once the stream is exhausted).

        A chat prompt is rendered by its template (special tokens included); a completion's
        prompt gets the tokenizer's special tokens, as the router counts them.
        """
        ids = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=add_special_tokens)
        prompt_tokens = int(ids["input_ids"].shape[1])
        kwargs = self._sampling(body, prompt_tokens)
        _log(
            {
                "event": "request",
                "temperature": body.get("temperature"),
                "top_p": body.get("top_p"),
                "max_tokens": body.get("max_tokens"),
                "prompt_tokens": prompt_tokens,
                "stream": bool(body.get("stream")),
            }
        )
        streamer = TokenStreamer(self.tokenizer)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": 0, "total_tokens": prompt_tokens}
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        error: list[BaseException] = []

        cancelled = threading.Event()

        def stop_when_cancelled(input_ids: Any, scores: Any, **_: Any) -> bool:
            return cancelled.is_set()  # the client went away: stop generating

        def run() -> None:
            from transformers import StoppingCriteriaList

            try:
                with self.lock, self.torch.inference_mode():  # one generation at a time
                    out = self.model.generate(
                        **ids,
                        streamer=streamer,
                        pad_token_id=pad,
                        stopping_criteria=StoppingCriteriaList([stop_when_cancelled]),
                        **kwargs,
                    )
                generated = int(out.shape[1]) - prompt_tokens
                usage.update(completion_tokens=generated, total_tokens=prompt_tokens + generated)
            except BaseException as exc:  # reported to the client through the stream
                error.append(exc)
                streamer.end()

        def pieces() -> Iterator[str]:
            # the lock is held by the generating thread, never across a yield: a client that
            # disconnects mid-stream cannot leave the engine locked
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            try:
                for piece in streamer:
                    if piece:
                        yield piece
            finally:
                cancelled.set()
            worker.join()
            if error:
                raise RuntimeError(f"generation failed: {error[0]}")

        return pieces(), usage

    # -- embeddings ----------------------------------------------------------------------------

    def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        torch = self.torch
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_model_len, return_tensors="pt"
        )
        with self.lock, torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        elif self.pooling == "max":
            pooled = hidden.masked_fill(mask == 0, -1e9).max(dim=1).values
        else:
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        if self.normalize:
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.tolist(), int(batch["attention_mask"].sum())


class TokenStreamer:
    """The generated text piece by piece, one piece per token (as soon as the bytes decode).

    transformers' ``TextIteratorStreamer`` holds text back until a word ends; an engine streams
    each token. Text is decoded from all the generated ids, and the new suffix is sent unless it
    ends inside a multi-byte character (then it waits for the next token).
    """

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.pending: SimpleQueue[str | None] = SimpleQueue()
        self.ids: list[int] = []
        self.sent = 0
        self.prompt_seen = False

    def put(self, value: Any) -> None:
        if not self.prompt_seen:  # generate() first passes the prompt
            self.prompt_seen = True
            return
        self.ids.extend(int(i) for i in value.reshape(-1).tolist())
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if text.endswith("\ufffd"):
            return
        if len(text) > self.sent:
            self.pending.put(text[self.sent :])
            self.sent = len(text)

    def end(self) -> None:
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if len(text) > self.sent:
            self.pending.put(text[self.sent :])
            self.sent = len(text)
        self.pending.put(None)

    def __iter__(self) -> Iterator[str]:
        while (piece := self.pending.get()) is not None:
            yield piece


def _is_embedding_model(folder: Path, config: Any) -> bool:
    if (folder / "modules.json").exists() or (folder / "sentence_bert_config.json").exists():
        return True
    architectures = getattr(config, "architectures", None) or []
    return not any(
        a.endswith(("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")) for a in architectures
    )


def _pooling(folder: Path) -> tuple[str, bool]:
    """sentence-transformers' pooling mode and whether it normalizes (modules.json)."""
    mode, normalize = "mean", False
    modules = folder / "modules.json"
    if modules.exists():
        for module in json.loads(modules.read_text()):
            kind = str(module.get("type", ""))
            if kind.endswith("Normalize"):
                normalize = True
            if kind.endswith("Pooling"):
                config = folder / str(module.get("path", "")) / "config.json"
                if config.exists():
                    pool = json.loads(config.read_text())
                    if pool.get("pooling_mode_cls_token"):
                        mode = "cls"
                    elif pool.get("pooling_mode_max_tokens"):
                        mode = "max"
    return mode, normalize


# -- HTTP ------------------------------------------------------------------------------------------


def _error(status: int, message: str, kind: str = "invalid_request_error") -> Any:
    return JSONResponse({"error": {"message": message, "type": kind, "code": None}}, status_code=status)


def create_app(engine: Engine) -> FastAPI:
    app = FastAPI(title="xerotier CPU engine")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": engine.served_name, "object": "model", "owned_by": "xerotier"}],
        }

    def complete(body: dict[str, Any], prompt: str, chat: bool) -> Any:
        if engine.embedding:
            return _error(400, "This model serves embeddings only (/v1/embeddings)")
        try:
            stream, usage = engine.generate(prompt, body, add_special_tokens=not chat)
        except ValueError as exc:
            return _error(400, str(exc))
        rid = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"
        created = int(time.time())
        kind = "chat.completion" if chat else "text_completion"

        def choice(text: str, finish: str | None, delta: bool) -> dict[str, Any]:
            if not chat:
                return {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
            key = "delta" if delta else "message"
            content: dict[str, Any] = {"content": text} if delta else {"role": "assistant", "content": text}
            return {"index": 0, key: content, "logprobs": None, "finish_reason": finish}

        def finish_reason() -> str:
            return (
                "length"
                if usage["completion_tokens"]
                >= engine._sampling(body, usage["prompt_tokens"])["max_new_tokens"]
                else "stop"
            )

        if body.get("stream"):

            def events() -> Iterator[bytes]:
                base = {"id": rid, "object": f"{kind}.chunk", "created": created, "model": body.get("model")}
                if chat:
                    first = {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                    yield f"data: {json.dumps(base | {'choices': [first]})}\n\n".encode()
                try:
                    for piece in stream:
                        yield _sse(base | {"choices": [choice(piece, None, True)]})
                except RuntimeError as exc:
                    yield _sse({"error": {"message": str(exc), "type": "engine_error", "code": None}})
                    return
                last = base | {"choices": [choice("", finish_reason(), True)]}
                if (body.get("stream_options") or {}).get("include_usage"):
                    last["usage"] = usage
                yield f"data: {json.dumps(last)}\n\n".encode()
                yield b"data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")
        try:
            text = "".join(stream)
        except RuntimeError as exc:
            return _error(500, str(exc), "engine_error")
        return {
            "id": rid,
            "object": kind,
            "created": created,
            "model": body.get("model"),
            "choices": [choice(text, finish_reason(), False)],
            "usage": usage,
        }

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        body = await request.json()
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _error(400, "messages must be a non-empty list")
        try:
            prompt = engine.chat_prompt(messages)
        except Exception as exc:  # the template refused the conversation
            return _error(400, f"The chat template cannot render these messages: {exc}")
        return await _in_thread(complete, body, prompt, True)

    @app.post("/v1/completions")
    async def completions(request: Request) -> Any:
        body = await request.json()
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if not isinstance(prompt, str):
            return _error(400, "prompt must be a string")
        return await _in_thread(complete, body, prompt, False)

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Any:
        body = await request.json()
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return _error(400, "input must be a string or a list of strings")
        if not engine.embedding:
            return _error(400, "This model does not serve embeddings")
        _log({"event": "request", "embeddings": len(texts)})
        vectors, tokens = await _in_thread(engine.embed, texts)
        return {
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "model": body.get("model"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    return app


def _sse(event: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(event)}\n\n".encode()


async def _in_thread(fn: Any, *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m xerotier.agent.cpu_engine")
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--served-model-name", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-model-len", type=int, default=None)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args(argv)
    missing = available()
    if missing:
        print(missing, file=sys.stderr, flush=True)
        raise SystemExit(2)
    import torch
    import uvicorn

    if args.threads:
        torch.set_num_threads(args.threads)
    engine = Engine(args.model_dir, args.served_model_name, args.max_model_len)
    kind = "embeddings" if engine.embedding else "generation"
    _log({"event": "ready", "kind": kind, "maxModelLen": engine.max_model_len})
    uvicorn.run(
        create_app(engine), host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=30
    )


if __name__ == "__main__":
    main()
