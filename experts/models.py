"""The expert pool (专家库) and one-to-one assistance cases."""
