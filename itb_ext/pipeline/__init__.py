"""ITB's generator lists as steps: parsing, the generator registry, column naming, frame helpers."""
