"""Reveal and Release (Xie, Teng, Ke, Wen, Wang, Findings of EMNLP 2025, arXiv 2509.14624):
unlearning without the forget data. The model is prompted to *reveal* what it knows about a
task (instructions found by a NeuralUCB bandit search, scored by relevance and Vendi
diversity), and the self-generated text is *released* in rounds of orthogonal LoRA modules
that are negated (W <- W - lambda * B_f A_f). See docs/explanation/reveal-release.md.
"""
