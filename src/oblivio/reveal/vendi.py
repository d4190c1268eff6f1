"""The Vendi score: the effective number of distinct items in a sample (diversity).

Friedman and Dieng 2023 ("The Vendi Score: A Diversity Evaluation Metric for Machine
Learning", arXiv 2210.02410), as Reveal and Release (Xie et al., Findings of EMNLP 2025,
arXiv 2509.14624) uses it for an instruction's responses: with K_ij the cosine similarity
of the embeddings of responses i and j (K_ii = 1) and λ the eigenvalues of K/n,
VS = exp(−Σ λ_i log λ_i) (0 log 0 = 0). n identical responses score 1; n mutually
orthogonal ones score n.
"""
from __future__ import annotations

import torch


def vendi_score(emb: torch.Tensor) -> float:
    """Vendi score of the rows of ``emb`` ([n, d], any scale: rows are L2-normalised here).
    A zero row (an empty response embedded as nothing) counts as its own direction."""
    if emb.ndim != 2 or emb.shape[0] == 0:
        raise ValueError(f"expected a non-empty [n, d] matrix, got shape {tuple(emb.shape)}")
    x = emb.double()
    norms = x.norm(dim=1, keepdim=True)
    x = torch.where(norms > 0, x / norms.clamp_min(1e-12), x)
    k = x @ x.T
    k.fill_diagonal_(1.0)           # cosine of a vector with itself, also for a zero row
    lam = torch.linalg.eigvalsh(k / x.shape[0]).clamp_min(0.0)
    nz = lam[lam > 1e-12]
    return float(torch.exp(-(nz * nz.log()).sum()))
