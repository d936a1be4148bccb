"""Exercises for notebook lemmas (checkers named check_*)."""
__all__ = []
