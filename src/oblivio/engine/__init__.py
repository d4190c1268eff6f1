"""The one training loop (Accelerate), the method contract it calls, the frozen reference, and
unlearning controls."""
