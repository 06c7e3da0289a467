"""A toy feature generator, label and algorithm, added through the extension points."""
