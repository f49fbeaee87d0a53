"""Evaluation of the synthesis models: vertex metrics, lip-sync on real speech, instruction following."""
