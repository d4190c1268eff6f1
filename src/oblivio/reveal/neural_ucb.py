"""NeuralUCB over a finite pool of arms (candidate instructions), without replacement.

Zhou, Li, Gu 2020 ("Neural Contextual Bandits with UCB-based Exploration", ICML, arXiv
1911.04462), as Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624)
uses it to find good instructions in few queries. A small MLP f(φ; θ) of width m predicts an
arm's score from its feature vector φ; with g(φ) = ∇_θ f(φ; θ), the next arm is

    argmax_p  f(φ_p; θ) + ν · sqrt(g(φ_p)ᵀ Z⁻¹ g(φ_p) / m),

after the pick Z ← Z + g gᵀ / m (Z₀ = λ I; Z⁻¹ kept by the Sherman–Morrison update), and θ
is refit on every (φ, score) seen so far (squared loss + reg·m/2 ‖θ − θ₀‖²; the paper ties reg
to λ, ours is weaker, 1e-3, so that a handful of points can be fit).
Each arm is queried at most once (a query costs generations; a second one of the same
instruction would return the same responses under greedy decoding). The first
``n_init`` arms are drawn at random (our choice, so the network has data to fit).
"""
from __future__ import annotations

import math
import random
from typing import Callable, Sequence

import torch

# the exploration weight ν of the reveal search (search.py, config ``reveal.nu``): the best of the
# grid 0–3 on validation worlds 1, 2 by the reveal objective (best found / best of pool within
# 12 queries), reported on worlds 3, 4 (`python bench/reveal_nu.py --reps 20`); on these pools
# every ν of the grid is within about two standard errors of every other and of random search
NU = 0.1


class NeuralUCB:
    def __init__(self, features: torch.Tensor, *, hidden: int = 32, nu: float = 1.0, lam: float = 1.0,
                 lr: float = 1e-2, fit_steps: int = 100, n_init: int = 2, reg: float = 1e-3,
                 dims: int = 8, seed: int = 0) -> None:
        if features.ndim != 2 or features.shape[0] == 0:
            raise ValueError("features must be a non-empty [n_arms, d] matrix")
        g = torch.Generator().manual_seed(seed)
        x = features.double()
        if x.shape[0] > 1:
            # the top ``dims`` principal components, standardised (our choice): a 384-wide
            # sentence embedding would make θ, and Z (p × p), needlessly large for ~40 arms
            x = x - x.mean(0)
            u, sv, _ = torch.linalg.svd(x, full_matrices=False)
            k = max(1, min(dims, int((sv > 1e-9 * sv[0]).sum())))
            x = u[:, :k] * sv[:k]
            x = x / (x.std(0, unbiased=False) + 1e-8)
        self.x = x
        d = x.shape[1]
        self.m = hidden
        # the paper's symmetric initialisation: W1 = [W; W], w2 = [v, −v], so f(·; θ₀) = 0 (no
        # arm is preferred before any score is seen); hidden is rounded up to an even width
        hidden += hidden % 2
        w = torch.randn(hidden // 2, d, generator=g, dtype=torch.double) * math.sqrt(4.0 / hidden)
        v = torch.randn(1, hidden // 2, generator=g, dtype=torch.double) * math.sqrt(2.0 / hidden)
        self.w1 = torch.cat([w, w])
        self.w2 = torch.cat([v, -v], dim=1)
        self.theta0 = self._flat().clone()
        self.p = self.theta0.numel()
        self.z_inv = torch.eye(self.p, dtype=torch.double) / lam
        self.nu, self.lam, self.lr, self.fit_steps, self.n_init, self.reg = nu, lam, lr, fit_steps, n_init, reg
        self.rng = random.Random(seed)
        self.seen: list[int] = []
        self.rewards: list[float] = []

    def _flat(self) -> torch.Tensor:
        return torch.cat([self.w1.reshape(-1), self.w2.reshape(-1)])

    def _unflat(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k = self.w1.numel()
        return theta[:k].reshape(self.w1.shape), theta[k:].reshape(self.w2.shape)

    def _f(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        w1, w2 = self._unflat(theta)
        return math.sqrt(self.m) * (torch.relu(x @ w1.T) @ w2.T).squeeze(-1)

    def predict(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(f, g) for every arm: predictions [n] and gradients ∇_θ f [n, p] (in closed form:
        the network has one hidden ReLU layer)."""
        h = self.x @ self.w1.T                                   # [n, m]
        a = torch.relu(h)
        s = math.sqrt(self.m)
        f = s * (a @ self.w2.T).squeeze(-1)
        g1 = s * (self.w2[0] * (h > 0))[:, :, None] * self.x[:, None, :]   # ∂f/∂W1 [n, m, d]
        g2 = s * a                                                # ∂f/∂w2 [n, m]
        return f, torch.cat([g1.reshape(len(f), -1), g2], dim=1)

    def ucb(self) -> torch.Tensor:
        f, g = self.predict()
        bonus = torch.sqrt(((g @ self.z_inv) * g).sum(1).clamp_min(0) / self.m)
        return f + self.nu * bonus

    def select(self) -> int:
        """The next arm to query (never one already queried)."""
        free = [i for i in range(self.x.shape[0]) if i not in self.seen]
        if not free:
            raise RuntimeError("every arm has been queried")
        if len(self.seen) < self.n_init:
            return self.rng.choice(free)
        u = self.ucb()
        return max(free, key=lambda i: float(u[i]))

    def update(self, arm: int, reward: float) -> None:
        """Record the arm's score: Z⁻¹ update with its gradient, then refit θ."""
        _, g = self.predict()
        v = g[arm]
        zv = self.z_inv @ v
        self.z_inv -= torch.outer(zv, zv) / (self.m + v @ zv)   # Sherman–Morrison for Z + v vᵀ/m
        self.seen.append(arm)
        self.rewards.append(float(reward))
        self._fit()

    def _fit(self) -> None:
        theta = self._flat().clone().requires_grad_(True)
        opt = torch.optim.Adam([theta], lr=self.lr)
        x = self.x[self.seen]
        y = torch.tensor(self.rewards, dtype=torch.double)
        for _ in range(self.fit_steps):
            opt.zero_grad()
            loss = ((self._f(theta, x) - y) ** 2).sum() / 2 + self.reg * self.m / 2 * (
                (theta - self.theta0) ** 2).sum()
            loss.backward()
            opt.step()
        self.w1, self.w2 = (t.detach() for t in self._unflat(theta.detach()))


def run_bandit(select: Callable[[], int], update: Callable[[int, float], None], reward: Callable[[int], float],
               budget: int) -> list[tuple[int, float]]:
    """Query ``budget`` arms with a select/update policy; returns (arm, reward) in query order."""
    out = []
    for _ in range(budget):
        a = select()
        r = reward(a)
        update(a, r)
        out.append((a, r))
    return out


def random_order(n_arms: int, seed: int) -> Sequence[int]:
    """The random-search baseline's query order (no repeats)."""
    order = list(range(n_arms))
    random.Random(seed).shuffle(order)
    return order
