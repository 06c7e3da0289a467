"""The demo, the comparison and the risk demo. Nothing in the library depends on this package."""
