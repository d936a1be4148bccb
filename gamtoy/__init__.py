"""gamtoy."""
