"""Sharded checkpoints: ``model.safetensors.index.json`` against the shards' headers (pure).

The index (transformers ``save_pretrained``) maps every tensor name to the shard file holding it in
``weight_map``. Rules (loading.md §6): every named shard exists, every listed tensor is in the shard
it names, no tensor is in two shards, and no shard holds a tensor the index does not list.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import Any

from xerotier.checkpoint.safetensors_header import SafetensorsHeader
from xerotier.checkpoint.text import clean

INDEX = "model.safetensors.index.json"


def unindexed_weight_files(index: dict[str, Any], headers: dict[str, SafetensorsHeader]) -> list[str]:
    """Root safetensors files the index does not name and that share no tensor name with it.

    A Mistral repository ships HF shards with their index plus ``consolidated.safetensors`` (the same
    weights under Mistral's names); vLLM loads only the files the index names
    (``vllm/model_executor/model_loader/weight_utils.py`` ``filter_duplicate_safetensors_files``),
    so such a file is an extra copy, recorded but neither validated against the index nor counted.
    """
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict):
        return []
    named = set(weight_map.values())
    return sorted(
        path
        for path, header in headers.items()
        if "/" not in path
        and path.endswith(".safetensors")
        and path not in named
        and not any(name in weight_map for name in header.names)
    )


def check_index(
    index: dict[str, Any], headers: dict[str, SafetensorsHeader], paths: set[str]
) -> Iterator[str]:
    """Yield one message per problem (the caller bounds how many it reports)."""
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict) or not set(map(type, chain(weight_map, weight_map.values()))) <= {
        str
    }:
        yield f"{INDEX}: weight_map must map tensor names to shard file names"
        return
    owner: dict[str, str] = {}
    for path, header in headers.items():
        if "/" in path:
            continue  # sub-modules (e.g. sentence-transformers 2_Dense/) are not in the root index
        for name in header.tensors:
            if name in owner:
                yield f"{path}: tensor '{clean(name)}' is also in {owner[name]}"
            else:
                owner[name] = path
    missing_shards: set[str] = set()
    for name, shard in weight_map.items():
        if shard not in paths:
            if shard not in missing_shards:
                missing_shards.add(shard)
                yield f"{INDEX}: names shard '{clean(shard)}', which was not uploaded"
            continue
        if shard not in headers:
            continue  # the shard itself failed to parse and is reported already
        if name not in headers[shard].tensors:
            where = f" (it is in {owner[name]})" if name in owner else ""
            yield f"{INDEX}: tensor '{clean(name)}' is not in {clean(shard)}{where}"
    for name, path in owner.items():
        if name not in weight_map and path.endswith(".safetensors"):
            yield f"{path}: tensor '{clean(name)}' is not listed in {INDEX}"
