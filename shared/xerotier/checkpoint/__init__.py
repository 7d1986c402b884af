"""Pure readers of a checkpoint's documents (safetensors headers, config.json, quantization configs),
shared by the validation service and the load planner: one derivation of the metadata for a
stored model and for a folder on disk."""
