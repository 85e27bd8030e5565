"""ipywidgets front-ends of the sandboxes; the only part of the package that imports ipywidgets."""
