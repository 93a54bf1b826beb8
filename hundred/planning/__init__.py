"""Planning: one customer's dated plan (planner.py, notes.py, workdays.py), conditions
(conditions.py), the engine's run-time decisions and the journey clock (engine.py), and the one
identity of a touch in flight (identity.py)."""
