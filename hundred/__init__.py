"""hundred: every closed deal becomes a 100-day onboarding journey (Joey Coleman's method).

The package's pure core (journey model, planner, templating, letters) imports neither Prefect nor
a web framework, so marketers' commands stay fast; the runtime adapters live at the edges.
"""

__version__ = "0.1.0"
