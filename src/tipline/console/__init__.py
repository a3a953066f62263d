"""Console: the analysts' queue, item and network pages, decisions."""
