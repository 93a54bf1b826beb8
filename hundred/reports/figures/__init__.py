"""How each journey is doing: the ledger's counted buckets turned into figures
(compute.py, model.py), one customer's story (story.py), and their pages, charts, exports and
terminal text. Pure: the counting itself is SQL in hundred/adapters/ledger/figures.py."""
