"""Live model quality: out-of-sample skill and confidence drift from predictions whose labels
have matured."""
