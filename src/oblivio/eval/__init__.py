"""Evaluation: shared forward passes and generations, then every metric on top of them."""
