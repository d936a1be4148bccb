"""Exercises for notebook ridge (checkers named check_*)."""
__all__ = []
