"""Templating: the sandboxed Jinja2 environment (sandbox.py), its filters and budgets (filters.py,
limits.py), template files (loader.py), safe values (values.py) and the merge context of a deal
(context.py)."""
