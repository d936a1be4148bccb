"""Exercises for notebook flatness (checkers named check_*)."""
__all__ = []
