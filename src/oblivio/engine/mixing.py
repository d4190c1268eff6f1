"""Model mixing θ_mix = α·θ_ref + (1−α)·θ_unlearned, parameter-wise.

Wang et al. 2024/2025, "Towards Effective Evaluations and Comparisons for LLM Unlearning
Methods" (arXiv 2406.09179): mixing the unlearned model back toward the
reference trades forgetting for utility continuously; calibration (engine/calibrate.py)
picks the α at which methods have equal retain utility.

* Full models: :func:`mix_state` on the two state dicts; :func:`mixed_model` returns a new
  model. α = 0 and α = 1 return the unlearned / reference tensors exactly (copies, no
  arithmetic), so both ends reproduce their model bit for bit.
* LoRA: an unlearned LoRA model is θ_ref + B·A·(s), so mixing is scaling the adapter delta
  by (1 − α): :func:`mix_lora` does that on a PEFT model without touching the base weights
  (the reference is the same model with the adapter disabled). A *merged* LoRA model (what
  ``oblivio unlearn --lora-r`` saves) is a full model whose delta is B·A, so full-state
  mixing against the base gives the same result; ``tests/test_controls.py`` checks this.
Non-floating-point tensors (integer buffers) must agree and are taken as they are.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping

import torch


def _check_alpha(alpha: float) -> float:
    a = float(alpha)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    return a


def mix_state(ref_state: Mapping[str, torch.Tensor], unl_state: Mapping[str, torch.Tensor],
              alpha: float) -> dict[str, torch.Tensor]:
    """α·ref + (1−α)·unlearned for every floating tensor (computed in float32, cast back)."""
    a = _check_alpha(alpha)
    if set(ref_state) != set(unl_state):
        only_r = sorted(set(ref_state) - set(unl_state))[:3]
        only_u = sorted(set(unl_state) - set(ref_state))[:3]
        raise ValueError(f"state dicts differ: only in reference {only_r}, only in unlearned {only_u}")
    out: dict[str, torch.Tensor] = {}
    for k, u in unl_state.items():
        r = ref_state[k]
        if r.shape != u.shape:
            raise ValueError(f"shape mismatch for {k}: {tuple(r.shape)} vs {tuple(u.shape)}")
        if not torch.is_floating_point(u) or a == 0.0:
            out[k] = u.detach().clone()
        elif a == 1.0:
            out[k] = r.detach().to(u.device, u.dtype).clone()
        else:
            rr = r.detach().to(u.device, torch.float32)
            out[k] = (a * rr + (1.0 - a) * u.detach().float()).to(u.dtype)
    return out


def is_peft(model: Any) -> bool:
    return hasattr(model, "peft_config") and hasattr(model, "disable_adapter")


def mix_lora(peft_model: Any, alpha: float, *, inplace: bool = False) -> Any:
    """Scale every LoRA delta by (1−α): θ_base + (1−α)·B·A (B weights scaled)."""
    a = _check_alpha(alpha)
    m = peft_model if inplace else copy.deepcopy(peft_model)
    n = 0
    with torch.no_grad():
        for name, p in m.named_parameters():
            if "lora_B" in name or "lora_embedding_B" in name:
                p.mul_(1.0 - a)
                n += 1
    if n == 0:
        raise ValueError("no LoRA B weights found in this PEFT model")
    return m


def mixed_model(ref_model: Any, unlearned_model: Any, alpha: float, *, into: Any = None) -> Any:
    """A model with θ_mix = α·θ_ref + (1−α)·θ_unlearned.

    ``unlearned_model`` may be a PEFT (LoRA) model with ``ref_model`` None (its base is the
    reference; see :func:`mix_lora`). ``into``: an existing model of the same architecture
    to load the mixed weights into (calibration reuses one buffer model across α values).
    """
    if ref_model is None:
        if not is_peft(unlearned_model):
            raise ValueError("ref_model=None needs a PEFT (LoRA) unlearned model")
        return mix_lora(unlearned_model, alpha)
    target = into if into is not None else copy.deepcopy(unlearned_model)
    state = mix_state(ref_model.state_dict(), unlearned_model.state_dict(), alpha)
    target.load_state_dict(state)
    target.eval()
    return target
