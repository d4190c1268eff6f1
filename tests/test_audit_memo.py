"""The audit post-step's grid memo (post_steps/audit.py): whose attack results a grid's cells share."""
from __future__ import annotations


def test_audit_memo_is_per_world_and_shared_across_methods() -> None:
    """A grid's audit memo (post_steps/audit.py) holds the base and gold models' attack results:
    a cell of another world (other models, other facts) or portion must not reuse them, a cell
    of another method on the same world must."""
    from oblivio.config import load_config
    from oblivio.post_steps.audit import memo_key
    a = load_config(overrides={"world": {"preset": "tiny", "seed": 1}, "unlearn": {"method": "npo"}})
    other_method = load_config(overrides={"world": {"preset": "tiny", "seed": 1}, "unlearn": {"method": "ga"}})
    other_world = load_config(overrides={"world": {"preset": "tiny", "seed": 2}, "unlearn": {"method": "npo"}})
    val = load_config(overrides={"world": {"preset": "tiny", "seed": 1}, "eval": {"portion": "val"}})
    assert memo_key(a) == memo_key(other_method)
    assert memo_key(a) != memo_key(other_world) and memo_key(a) != memo_key(val)
