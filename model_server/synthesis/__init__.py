"""Talking-face synthesis (stage 2 of AVI-Talking): speech + instruction → articulation curves."""
