"""Reference solutions to the exercises (one function per checker; the tests run each)."""
