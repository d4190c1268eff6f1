"""The one training loop (Accelerate), the frozen reference, and unlearning controls."""
