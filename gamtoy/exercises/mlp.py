"""Exercises for notebook mlp (checkers named check_*)."""
__all__ = []
