"""Inspect a checkpoint's files: structure checks, safety scans, then metadata (no database).

Takes the file list and a way to open each file, so the worker (blob store) and the benchmark
(plain files) run the same code. Problems are collected across files and reported one a line, at
most ``MAX_PROBLEMS`` of them; a file's first problem stops that file.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

from xerotier.checkpoint.safetensors_header import SafetensorsHeader, parse_many, read_raw_header
from xerotier.checkpoint.text import clean
from xerotier.domain import storable
from xerotier.errors import ValidationFailed
from xerotier.validation import file_scan, metadata, shards

MAX_PROBLEMS = 10
MAX_TENSORS_PER_HEADER = 200_000  # the default of XEROTIER_MAX_SAFETENSORS_TENSORS
MAX_HELD_HEADER_BYTES = 64 * 1024 * 1024  # raw safetensors headers held before checking them
MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_TEXT_BYTES = 4 * 1024 * 1024
SPOOL_IN_MEMORY = 16 * 1024 * 1024  # a non-seekable file is copied aside to be scanned
#: Files that must be PyTorch checkpoints or pickles (strict scan); every other file is sniffed.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
#: Text files: they must decode as UTF-8 (``.json`` files must parse as JSON).
UTF8_SUFFIXES = (".md", ".txt", ".jinja", ".tiktoken", ".py", ".gitattributes", ".yaml", ".yml")
TEXT_SUFFIXES = (".json", *UTF8_SUFFIXES)
ROOT_JSON = (
    "config.json",
    "generation_config.json",
    "tokenizer_config.json",
    "chat_template.json",
    "quantize_config.json",
    "quant_config.json",
    "hf_quant_config.json",
    "model.safetensors.index.json",
)
#: The sentence-transformers config files vLLM reads ``max_seq_length`` from, in its order
#: (``vllm/transformers_utils/config.py`` ``get_sentence_transformer_tokenizer_config``).
SENTENCE_CONFIGS = (
    "sentence_bert_config.json",
    "sentence_roberta_config.json",
    "sentence_distilbert_config.json",
    "sentence_camembert_config.json",
    "sentence_albert_config.json",
    "sentence_xlm-roberta_config.json",
    "sentence_xlnet_config.json",
)

#: Files whose presence is the signal: sentence-transformers layout, exl2 conversion.
MARKER_FILES = ("config_sentence_transformers.json", "modules.json", "measurement.json")


@dataclass(frozen=True)
class FileRef:
    path: str
    size: int
    key: str  # what the opener needs: a blob sha256, a local path …


Opener = Callable[[FileRef], AbstractContextManager[BinaryIO]]


@dataclass
class Inspection:
    metadata: metadata.ExtractedMetadata
    headers: dict[str, SafetensorsHeader]
    config: dict[str, Any] | None = None  # the parsed root config.json


class Problems:
    """Validation problems, one a line, bounded."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, message: str) -> None:
        self.lines.append(" ".join(message.split())[:500])

    def raise_if_any(self) -> None:
        if not self.lines:
            return
        shown = self.lines[:MAX_PROBLEMS]
        if len(self.lines) > MAX_PROBLEMS:
            shown.append(f"… and {len(self.lines) - MAX_PROBLEMS} more problems")
        raise ValidationFailed("\n".join(shown))


def inspect_checkpoint(
    files: Sequence[FileRef],
    open_file: Opener,
    fmt: str | None,
    model_name: str = "",
    max_tensors: int = MAX_TENSORS_PER_HEADER,
) -> Inspection:
    """Check every file and extract the metadata; raise ``ValidationFailed`` listing the problems."""
    if not files:
        raise ValidationFailed("model has no files")
    problems = Problems()
    headers: dict[str, SafetensorsHeader] = {}
    docs = metadata.Documents()
    pickled: list[str] = []
    imports: set[str] = set()
    json_docs: dict[str, dict[str, Any]] = {}
    raw_headers: list[tuple[str, bytes, int]] = []  # checked together: one pass over all shards
    held = 0
    for ref in files:
        name = ref.path.rsplit("/", 1)[-1]
        lowered = name.lower()
        try:
            if lowered.endswith(".safetensors"):
                with open_file(ref) as stream:
                    raw, data_size = read_raw_header(stream, ref.size, ref.path)
                _check_tensor_count(raw, ref.path, max_tensors)
                raw_headers.append((ref.path, raw, data_size))
                held += len(raw)
                if held > MAX_HELD_HEADER_BYTES:  # keep memory bounded: check what we hold so far
                    _parse(raw_headers, headers, problems)
                    raw_headers, held = [], 0
            elif lowered.endswith(".gguf"):
                problems.add(
                    f"{ref.path}: GGUF files are not a supported format (upload safetensors, bin or exl2)"
                )
            else:
                _inspect_other(ref, name, lowered, open_file, docs, json_docs, pickled, imports)
        except ValidationFailed as failure:
            problems.add(failure.message)
    _parse(raw_headers, headers, problems)
    _apply_json(docs, json_docs, problems)
    ignored: list[str] = []
    if docs.index is not None:
        ignored = shards.unindexed_weight_files(docs.index, headers)
        for path in ignored:  # e.g. Mistral's consolidated.safetensors next to the HF shards
            headers.pop(path, None)
        for message in shards.check_index(docs.index, headers, {f.path for f in files}):
            problems.add(message)
    if not headers and not pickled and not problems.lines:
        problems.add("no weights found: expected .safetensors (or .bin/.pt/.pth) files")
    if fmt == "safetensors" and not headers and not problems.lines:
        problems.add("no .safetensors file found")
    problems.raise_if_any()
    try:
        found = metadata.extract(
            docs, headers, sum(f.size for f in files), fmt or _format(headers), model_name
        )
    except ValidationFailed as failure:
        problems.add(failure.message)
        problems.raise_if_any()
        raise
    if imports:
        found.extra["pickleImports"] = sorted(imports)
    if ignored:
        found.extra["ignoredWeightFiles"] = ignored
    found.extra["engineWeightFiles"] = engine_weight_files(headers, pickled)
    try:
        check_storable(found)
    except storable.NotStorable as exc:
        problems.add(f"{_COLUMN_SOURCES.get(exc.where, 'metadata')}: {exc}")
        problems.raise_if_any()
    if fmt == "exl2" and found.pre_quantization_method != "exl2":
        problems.add(
            "format is exl2 but no exl2 tensors (q_weight, q_invperm) or quantization_config were found"
        )
        problems.raise_if_any()
    return Inspection(found, headers, docs.config)


def engine_weight_files(headers: dict[str, SafetensorsHeader], pickled: list[str]) -> list[str]:
    """The weight files vLLM loads: the root safetensors (only those the index names: vLLM's
    ``filter_duplicate_safetensors_files``), else the root pickles (``.bin`` / ``.pt``)."""
    root = sorted(p for p in headers if "/" not in p)
    return root or sorted(p for p in pickled if "/" not in p)


#: column → (bits of an integer column, None for a float), and the file its value comes from
_COLUMNS: dict[str, int | None] = {
    "size_bytes": 64,
    "parameter_count": 64,
    "context_length": 32,
    "num_experts": 32,
    "num_experts_per_tok": 32,
    "default_temperature": None,
    "default_top_p": None,
    "pre_quantization_bits": None,
}
_COLUMN_SOURCES = {
    "context_length": "config.json",
    "num_experts": "config.json",
    "num_experts_per_tok": "config.json",
    "default_temperature": "generation_config.json",
    "default_top_p": "generation_config.json",
    "pre_quantization_bits": "config.json (quantization_config) or its quantize_config.json",
    "parameter_count": "the weights' headers",
}


def check_storable(found: metadata.ExtractedMetadata) -> None:
    """Every value fits its column (PostgreSQL INTEGER is 32-bit) and every number is finite."""
    values = found.as_values(set_workload_type=False)
    for column, bits in _COLUMNS.items():
        storable.check_column(column, values.get(column), bits)
    storable.check_tree(found.extra, "extraMetadata")


def _check_tensor_count(raw: bytes, path: str, limit: int) -> None:
    """Bound the parse before it starts: every tensor entry is a JSON object, opened by a ``{``
    that no escape can write, so at most ``count("{") - 1`` tensors (C speed, no allocation)."""
    if raw.count(b"{") - 1 > limit:
        raise ValidationFailed(
            f"{path}: safetensors header lists more than {limit} tensors "
            "(XEROTIER_MAX_SAFETENSORS_TENSORS); split the checkpoint into shards"
        )


def _parse(
    raw_headers: list[tuple[str, bytes, int]], headers: dict[str, SafetensorsHeader], problems: Problems
) -> None:
    parsed, failures = parse_many(raw_headers)
    headers.update(parsed)
    for failure in failures:
        problems.add(failure.message)


def _format(headers: dict[str, SafetensorsHeader]) -> str:
    return "safetensors" if headers else "bin"


def _inspect_other(
    ref: FileRef,
    name: str,
    lowered: str,
    open_file: Opener,
    docs: metadata.Documents,
    json_docs: dict[str, dict[str, Any]],
    pickled: list[str],
    imports: set[str],
) -> None:
    """Any file but safetensors and GGUF: its content is sniffed for pickles whatever its name, and
    text files must read as what their suffix says."""
    with open_file(ref) as raw, _seekable(raw) as stream:
        scan = file_scan.scan_file(stream, ref.size, ref.path, checkpoint=lowered.endswith(PICKLE_SUFFIXES))
    checkpoint = lowered.endswith(PICKLE_SUFFIXES) or bool(scan.tensors)
    if checkpoint and scan.streams:  # weights; a sniffed pickle only reports its imports
        pickled.append(ref.path)
    if scan.globals:
        imports.update(f"{module}.{attr}" for module, attr in scan.globals)
        if "/" not in ref.path and scan.tensors:  # root weights; not original/ copies
            docs.pickle_parameters = (docs.pickle_parameters or 0) + scan.parameter_count()
    if "/" not in ref.path and (name in ROOT_JSON or name in SENTENCE_CONFIGS):
        json_docs[name] = _read_json(ref, open_file)
    elif "/" not in ref.path and name in ("README.md", "chat_template.jinja"):
        text = _read_text(ref, open_file)
        if name == "README.md":
            docs.readme = text
        else:
            docs.chat_template = (name, text)
    elif lowered.endswith(".json"):
        with open_file(ref) as stream:
            file_scan.check_json_file(stream, ref.size, ref.path, MAX_JSON_BYTES)
    elif lowered.endswith(UTF8_SUFFIXES):
        with open_file(ref) as stream:
            file_scan.check_utf8(stream, ref.path)
    if "/" not in ref.path and name in MARKER_FILES:
        docs.sentence_transformers |= name != "measurement.json"
        docs.exl2_measurement |= name == "measurement.json"


@contextmanager
def _seekable(stream: BinaryIO) -> Iterator[BinaryIO]:
    """``stream`` itself when it can seek (local blobs); else a spooled copy (an S3 body)."""
    if stream.seekable():
        yield stream
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as copy:
        shutil.copyfileobj(stream, copy, 1 << 20)
        copy.seek(0)
        yield copy  # type: ignore[misc]


def _read_bounded(ref: FileRef, open_file: Opener, cap: int) -> bytes:
    if ref.size > cap:
        raise ValidationFailed(f"{ref.path}: larger than the {cap}-byte cap for this file")
    with open_file(ref) as stream:
        return stream.read(min(cap, ref.size) + 1)


def _read_json(ref: FileRef, open_file: Opener) -> dict[str, Any]:
    raw = _read_bounded(ref, open_file, MAX_JSON_BYTES)
    try:
        doc = storable.loads(raw)
    except storable.NotStorable as exc:
        raise ValidationFailed(f"{ref.path}: {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise ValidationFailed(f"{ref.path}: not valid JSON ({reason})") from None
    except RecursionError:
        raise ValidationFailed(f"{ref.path}: JSON nests too deeply") from None
    except ValueError as exc:
        raise ValidationFailed(f"{ref.path}: not valid JSON ({clean(str(exc), 80)})") from None
    if not isinstance(doc, dict):
        raise ValidationFailed(f"{ref.path}: not a JSON object")
    return doc


def _read_text(ref: FileRef, open_file: Opener) -> str:
    raw = _read_bounded(ref, open_file, MAX_TEXT_BYTES)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{ref.path}: not UTF-8 text") from None


def _apply_json(docs: metadata.Documents, json_docs: dict[str, dict[str, Any]], problems: Problems) -> None:
    docs.config = json_docs.get("config.json")
    docs.generation_config = json_docs.get("generation_config.json")
    docs.tokenizer_config = json_docs.get("tokenizer_config.json")
    docs.index = json_docs.get("model.safetensors.index.json")
    for name in ("quantize_config.json", "quant_config.json", "hf_quant_config.json"):
        if name in json_docs:
            docs.standalone_quant[name] = json_docs[name]
    if docs.chat_template is None and "chat_template.json" in json_docs:
        template = json_docs["chat_template.json"].get("chat_template")
        if isinstance(template, str):
            docs.chat_template = ("chat_template.json", template)
        else:
            problems.add("chat_template.json: chat_template must be a string")
    found = next((n for n in SENTENCE_CONFIGS if n in json_docs), None)
    docs.sentence_transformers |= found is not None
    length = json_docs[found].get("max_seq_length") if found else None
    if type(length) is int and length > 0:
        docs.encoder_max_seq_length = length
