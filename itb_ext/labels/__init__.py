"""Label generators: the only place where future prices are read, for training only."""
