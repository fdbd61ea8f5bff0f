"""PyTorch Course Lab: the work behind every lesson page, importable without a browser."""
