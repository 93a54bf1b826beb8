"""The timeline page of a plan (`plan --html`, the preview's timeline.html)."""
