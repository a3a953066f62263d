"""Cross-reference: links between items that share observables or content, networks."""
