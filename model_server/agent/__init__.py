"""Instruction agent: speech → visual instruction text (stage 1 of AVI-Talking)."""
