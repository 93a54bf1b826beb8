"""`hundred preview`: every touch rendered into a folder with an index page."""
