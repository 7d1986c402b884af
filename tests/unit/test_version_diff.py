"""The version diff from plain data: metadata, chat template, generation defaults, files, tensors."""

from __future__ import annotations

from xerotier.catalog.versions.diff import diff_files, diff_tensors, diff_versions, tensor_index


def test_files_by_sha256():
    old = {"a.safetensors": ("1" * 64, None), "config.json": ("2" * 64, None), "gone.txt": ("3" * 64, None)}
    new = {"a.safetensors": ("1" * 64, None), "config.json": ("4" * 64, None), "new.txt": ("5" * 64, None)}
    assert diff_files(old, new) == {
        "added": ["new.txt"],
        "removed": ["gone.txt"],
        "changed": [{"path": "config.json", "fromSha256": "2" * 64, "toSha256": "4" * 64}],
        "unchanged": 1,
    }


def test_tensors_across_shards():
    old = {
        "s1.safetensors": (
            "a",
            {"w1": {"dtype": "F16", "shape": [4, 4]}, "w2": {"dtype": "F16", "shape": [4]}},
        ),
        "s2.safetensors": ("b", {"w3": {"dtype": "BF16", "shape": [2]}}),
    }
    new = {
        "s1.safetensors": ("c", {"w1": {"dtype": "F16", "shape": [8, 4]}}),
        "s2.safetensors": ("d", {"w3": {"dtype": "F32", "shape": [2]}, "w4": {"dtype": "I8", "shape": [1]}}),
    }
    assert set(tensor_index(old)) == {"w1", "w2", "w3"}
    result = diff_tensors(old, new)
    assert result["added"] == [{"name": "w4", "dtype": "I8", "shape": [1]}]
    assert result["removed"] == [{"name": "w2", "dtype": "F16", "shape": [4]}]
    assert [c["name"] for c in result["changed"]] == ["w1", "w3"]
    assert result["changed"][0]["to"] == {"dtype": "F16", "shape": [8, 4]}
    assert result["headersAvailable"] is True
    assert diff_tensors({"x": ("a", None)}, new)["headersAvailable"] is False


def test_metadata_template_and_generation_defaults():
    old = {
        "version": "1.0.0",
        "contextLength": 4096,
        "license": "mit",
        "chatTemplate": "{{a}}",
        "defaultTopP": 0.9,
    }
    new = {
        "version": "2.0.0",
        "contextLength": 8192,
        "license": "mit",
        "chatTemplate": "{{b}}",
        "defaultTopP": 0.9,
        "defaultTemperature": 0.7,
    }
    result = diff_versions(old, {}, new, {})
    assert (result["from"], result["to"]) == ("1.0.0", "2.0.0")
    assert result["metadata"] == {"contextLength": {"from": 4096, "to": 8192}}
    assert result["chatTemplate"] == {"changed": True, "from": "{{a}}", "to": "{{b}}"}
    assert result["generationDefaults"] == {"defaultTemperature": {"from": None, "to": 0.7}}
    same = diff_versions(old, {}, dict(old), {})
    assert same["metadata"] == {} and same["chatTemplate"] == {"changed": False, "from": None, "to": None}
