"""The seed's metadata extracted from a model's files (pure: takes parsed documents and headers).

Bump ``EXTRACTOR_VERSION`` whenever a rule changes what is extracted: ``xerotier revalidate
--extractor-older-than N`` re-runs validation for versions whose metadata came from an older one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter, methodcaller
from typing import Any

from xerotier.checkpoint import config_fields, hf_config, quantization
from xerotier.checkpoint.safetensors_header import SafetensorsHeader, TensorInfo
from xerotier.validation import documents
from xerotier.validation.param_count import count_parameters, needs_inspection

EXTRACTOR_VERSION = 3
_RPARTITION, _LEAF = methodcaller("rpartition", "."), itemgetter(2)  # a tensor name's last part


@dataclass
class Documents:
    """The small files next to the weights, parsed (absent ones are None / empty)."""

    config: dict[str, Any] | None = None
    generation_config: dict[str, Any] | None = None
    tokenizer_config: dict[str, Any] | None = None
    chat_template: tuple[str, str] | None = None  # (source file, template) from a template file
    readme: str | None = None
    standalone_quant: dict[str, dict[str, Any]] = field(default_factory=dict)
    index: dict[str, Any] | None = None  # model.safetensors.index.json
    sentence_transformers: bool = False
    encoder_max_seq_length: int | None = None
    exl2_measurement: bool = False
    pickle_parameters: int | None = None  # float elements of the root .bin/.pt files' tensors


@dataclass
class ExtractedMetadata:
    format: str | None = None
    size_bytes: int = 0
    architecture: str | None = None
    parameter_count: int | None = None
    context_length: int | None = None
    license: str | None = None
    is_multimodal: bool = False
    default_temperature: float | None = None
    default_top_p: float | None = None
    chat_template: str | None = None
    is_pre_quantized: bool = False
    pre_quantization_method: str | None = None
    pre_quantization_bits: float | None = None
    num_experts: int | None = None
    num_experts_per_tok: int | None = None
    suggested_workload_type: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_values(self, *, set_workload_type: bool) -> dict[str, Any]:
        """Column values for the ``models`` row (``workload_type`` only if the client gave none)."""
        values = {
            "format": self.format,
            "size_bytes": self.size_bytes,
            "architecture": self.architecture,
            "parameter_count": self.parameter_count,
            "context_length": self.context_length,
            "license": self.license,
            "is_multimodal": self.is_multimodal,
            "default_temperature": self.default_temperature,
            "default_top_p": self.default_top_p,
            "chat_template": self.chat_template,
            "is_pre_quantized": self.is_pre_quantized,
            "pre_quantization_method": self.pre_quantization_method,
            "pre_quantization_bits": self.pre_quantization_bits,
            "num_experts": self.num_experts,
            "num_experts_per_tok": self.num_experts_per_tok,
            "extra_metadata": self.extra or None,
            "extractor_version": EXTRACTOR_VERSION,
        }
        if set_workload_type:
            values["workload_type"] = self.suggested_workload_type
        return values


def extract(
    docs: Documents,
    headers: dict[str, SafetensorsHeader],
    size_bytes: int,
    fmt: str | None,
    model_name: str = "",
) -> ExtractedMetadata:
    """Every metadata field the files support; disagreements between sources go to ``extra``."""
    found = ExtractedMetadata(format=fmt, size_bytes=size_bytes)
    extra = found.extra
    disagreements: list[str] = []
    config = docs.config or {}

    if config:
        _from_config(found, config, docs.encoder_max_seq_length)

    names = chain.from_iterable(h.names for h in headers.values())
    leaves = set(map(_LEAF, map(_RPARTITION, names)))
    special = needs_inspection(leaves) or quantization.has_markers(leaves)
    # per-tensor objects only when names show something beyond plain float tensors
    tensors: list[TensorInfo] = _all_tensors(headers) if special else []
    quant = quantization.resolve(
        quantization.from_configs(docs.config, docs.standalone_quant), tensors, leaves
    )
    if quant.method == "exl2" or (quant.method is None and docs.exl2_measurement):
        quant.method = "exl2"
        quant.source = quant.source or "measurement.json"
    if quant.method:
        found.is_pre_quantized = True
        found.pre_quantization_method = quant.method[:64]
        found.pre_quantization_bits = quant.bits
        extra["quantizationSource"] = quant.source
        disagreements += quant.disagreements
    if quant.method == "exl2" and fmt in (None, "safetensors"):
        found.format = "exl2"

    tensor_count = sum(len(h.names) for h in headers.values())
    if tensor_count:
        if quant.method is None and not special:
            found.parameter_count = sum(h.float_numel for h in headers.values())
        else:
            found.parameter_count = count_parameters(
                tensors or _all_tensors(headers), quant.method, quant.bits
            )
        extra["tensorCount"] = tensor_count
    elif docs.pickle_parameters is not None:  # a .bin-only checkpoint: counted from the opcode scan
        found.parameter_count = docs.pickle_parameters
    _declared_totals(found, docs.index, headers, disagreements)

    card = documents.model_card(docs.readme) if docs.readme is not None else documents.CardData()
    found.license = card.license
    if card.error:
        extra["modelCardError"] = card.error
    if docs.generation_config:
        found.default_temperature, found.default_top_p = documents.generation_defaults(docs.generation_config)
    found.chat_template = _chat_template(docs, extra)

    found.suggested_workload_type, reason = documents.suggest_workload(
        name=model_name,
        config=config,
        card=card,
        sentence_transformers=docs.sentence_transformers,
        chat_template=found.chat_template,
    )
    extra["suggestedWorkloadType"] = found.suggested_workload_type
    extra["suggestedWorkloadReason"] = reason
    if docs.sentence_transformers and docs.tokenizer_config:
        _cap_embedding_length(found, docs.tokenizer_config)
    if disagreements:
        extra["disagreements"] = disagreements
    return found


def _all_tensors(headers: dict[str, SafetensorsHeader]) -> list[TensorInfo]:
    return list(chain.from_iterable(h.tensors.values() for h in headers.values()))


def _from_config(found: ExtractedMetadata, config: dict[str, Any], encoder_max: int | None) -> None:
    extra = found.extra
    found.architecture = config_fields.family(config)
    if config_fields.model_type(config):
        extra["modelType"] = config_fields.model_type(config)
    if config_fields.architectures(config):
        extra["architectures"] = config_fields.architectures(config)
    resolved = hf_config.resolve(config)  # transformers' defaults, as vLLM reads config.json
    found.context_length, serve = config_fields.context_length(resolved, encoder_max)
    if serve:
        extra["defaultServeLength"] = serve
    found.num_experts, found.num_experts_per_tok = config_fields.experts(resolved)
    found.is_multimodal = config_fields.is_multimodal(config)
    extra.update(config_fields.attention_shape(resolved))
    dtype = config_fields.torch_dtype(config)
    if dtype:
        extra["torchDtype"] = dtype


def _declared_totals(
    found: ExtractedMetadata,
    index: dict[str, Any] | None,
    headers: dict[str, SafetensorsHeader],
    disagreements: list[str],
) -> None:
    """Store the index's declared totals next to ours and flag a disagreement."""
    meta = (index or {}).get("metadata")
    if not isinstance(meta, dict):
        return
    declared_params = meta.get("total_parameters")
    if type(declared_params) is int:
        found.extra["declaredParameterCount"] = declared_params
        if found.parameter_count is not None and declared_params != found.parameter_count:
            disagreements.append(
                f"model.safetensors.index.json declares {declared_params} parameters; "
                f"the tensors hold {found.parameter_count}"
            )
    declared_size = meta.get("total_size")
    if type(declared_size) is int:
        found.extra["declaredTotalSizeBytes"] = declared_size
        actual = sum(h.data_bytes for h in headers.values())
        if actual != declared_size:
            disagreements.append(
                f"model.safetensors.index.json declares total_size {declared_size}; "
                f"the tensors hold {actual} bytes"
            )


def _chat_template(docs: Documents, extra: dict[str, Any]) -> str | None:
    if docs.chat_template is not None:
        source, template = docs.chat_template
    else:
        config = docs.tokenizer_config
        found = documents.template_from_tokenizer_config(config) if config else None
        if not found:
            return None
        source, template = "tokenizer_config.json", found
    extra["chatTemplateSource"] = source
    return documents.check_template(template, source)


def _cap_embedding_length(found: ExtractedMetadata, tokenizer_config: dict[str, Any]) -> None:
    """Pooling models with absolute positions: the tokenizer's model_max_length caps too (vLLM)."""
    limit = tokenizer_config.get("model_max_length")
    if type(limit) is int and limit > 0 and (found.context_length is None or limit < found.context_length):
        found.context_length = limit
