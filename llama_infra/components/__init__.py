"""Pulumi components (translate only): each target's package builds resources from a validated spec."""
