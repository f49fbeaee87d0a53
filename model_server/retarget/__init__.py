"""Retarget from the open ARKit articulation space to FLAME's expression + jaw space."""
