"""Data: the QA item schema, loaders (JSONL, TOFU, the embedded world), samplers."""
