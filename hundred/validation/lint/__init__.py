"""The Coleman linter: rules (rules.py), the typical deal they are measured on (typical.py) and the
hints in the journey's language (hints.py)."""
