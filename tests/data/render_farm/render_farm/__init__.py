"""Render frames of an animation on every core."""
